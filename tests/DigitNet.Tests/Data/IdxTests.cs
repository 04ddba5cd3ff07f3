using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using DigitNet.Data;
using DigitNet.Data.Formats;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Data;

public class IdxTests
{
    [Fact]
    public void MnistFiles_Sha256MatchPublishedValues()
    {
        Assert.Equal("167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b", Sha256(TestData.MnistTestImagesPath));
        Assert.Equal("fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c", Sha256(TestData.MnistTestLabelsPath));
    }

    [Fact]
    public void ReadDataset_MnistTestSet()
    {
        var mnist = Idx.ReadDataset(TestData.MnistTestImagesPath, TestData.MnistTestLabelsPath, "mnist-test");

        Assert.Equal("mnist-test", mnist.Name);
        Assert.Equal(10000, mnist.Count);
        Assert.Equal(new TensorShape(1, 28, 28), mnist.SampleShape);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], mnist.ClassNames);
        Assert.Equal(7, mnist.Labels[0]);
        Assert.Equal(2, mnist.Labels[1]);
        Assert.Equal(0f, mnist.Features.Min());
        Assert.Equal(255f, mnist.Features.Max());
        // Every digit occurs; the rarest MNIST test digit (5) still has 892 samples.
        Assert.All(Enumerable.Range(0, 10), digit => Assert.True(mnist.Labels.Count(l => l == digit) >= 892));
    }

    [Fact]
    public void ReadDataset_MnistImageIsUpright()
    {
        // The first test image is a 7: its bar puts more ink in the top third than in the bottom third.
        var mnist = Idx.ReadDataset(TestData.MnistTestImagesPath, TestData.MnistTestLabelsPath, "mnist-test");
        var seven = mnist.Sample(0);
        float top = 0, bottom = 0;
        for (int c = 0; c < 28; c++)
        {
            for (int r = 0; r < 10; r++) top += seven[r * 28 + c];
            for (int r = 18; r < 28; r++) bottom += seven[r * 28 + c];
        }

        Assert.True(top > bottom, $"ink in rows 0-9 is {top}, in rows 18-27 {bottom}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_HandBuiltFile(bool gzip)
    {
        byte[] data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10)).ToArray();
        byte[] file = IdxBytes(0x0803, [2, 3, 4], data);

        var array = Idx.Read(new MemoryStream(gzip ? Gzip(file) : file), "hand.idx");

        Assert.Equal([2, 3, 4], array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void ReadDataset_PlainFilesWithRowMajorPixels()
    {
        using var temp = new TempDirectory();
        byte[] pixels = Enumerable.Range(0, 2 * 2 * 3).Select(i => (byte)i).ToArray();
        string images = temp.Write("images.idx", IdxBytes(0x0803, [2, 2, 3], pixels));
        string labels = temp.Write("labels.idx", IdxBytes(0x0801, [2], [9, 0]));

        var data = Idx.ReadDataset(images, labels, "tiny");

        Assert.Equal(new TensorShape(1, 2, 3), data.SampleShape);
        Assert.Equal([9, 0], data.Labels);
        Assert.Equal([6f, 7, 8, 9, 10, 11], data.Sample(1).ToArray());
    }

    public static TheoryData<string, string[]> BadFileCases => new()
    {
        { "empty", ["not an IDX file", "0 bytes"] },
        { "bad-magic", ["not an IDX file", "12 34"] },
        { "int-values", ["0x0C", "not supported"] },
        { "zero-rank", ["0 dimensions"] },
        { "header-truncated", ["truncated IDX header"] },
        { "data-truncated", ["need 12 bytes of data", "only 7 bytes follow the header", "truncated"] },
        { "gzip-data-truncated", ["truncated IDX data", "need 12 bytes, found 7"] },
        { "gzip-stream-cut", ["hand.idx"] },
        { "gzip-corrupt", ["corrupt gzip data"] },
        { "extra-data", ["longer than dimensions"] },
        { "dims-lie", ["need 47040000 bytes", "only 100 bytes follow the header"] },
        { "gzip-dims-lie", ["need 47040000 bytes", "bytes of gzip data can hold"] },
        { "negative-dimension", ["dimension 1 is -3"] },
    };

    [Theory]
    [MemberData(nameof(BadFileCases))]
    public void Read_BadFileRaisesClearError(string caseName, string[] fragments)
    {
        byte[] good = IdxBytes(0x0803, [1, 3, 4], Enumerable.Range(0, 12).Select(i => (byte)i).ToArray());
        byte[] bytes = caseName switch
        {
            "empty" => [],
            "bad-magic" => [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0],
            "int-values" => IdxBytes(0x0C01, [1], [0, 0, 0, 1]),
            "zero-rank" => [0, 0, 8, 0],
            "header-truncated" => good[..9],
            "data-truncated" => good[..^5],
            "gzip-data-truncated" => Gzip(good[..^5]),
            "gzip-stream-cut" => Gzip(good)[..^12],
            "gzip-corrupt" => CorruptGzip(Gzip(good)),
            "extra-data" => [.. good, 1],
            "dims-lie" => IdxBytes(0x0803, [60000, 28, 28], new byte[100]),
            "gzip-dims-lie" => Gzip(IdxBytes(0x0803, [60000, 28, 28], new byte[100])),
            "negative-dimension" => IdxBytes(0x0803, [1, -3, 4], new byte[12]),
            _ => throw new ArgumentException(caseName),
        };
        using var temp = new TempDirectory();
        string path = temp.Write("hand.idx", bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<DataFormatException>(() => Idx.Read(path));

        Assert.Contains("hand.idx", error.Message);
        foreach (string fragment in fragments)
            Assert.Contains(fragment, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 << 20, $"{caseName}: reading allocated {allocated} bytes");
    }

    public static TheoryData<string, string[]> BadPairCases => new()
    {
        { "count-mismatch", ["labels.idx", "3 labels", "2 images"] },
        { "label-ten", ["labels.idx", "label 10 at index 1", "0..9"] },
        { "images-are-labels", ["images.idx", "3 dimensions"] },
        { "labels-are-images", ["labels.idx", "1 dimension"] },
        { "labels-missing", ["labels.idx", "file not found"] },
    };

    [Theory]
    [MemberData(nameof(BadPairCases))]
    public void ReadDataset_BadPairRaisesClearError(string caseName, string[] fragments)
    {
        using var temp = new TempDirectory();
        byte[] images = IdxBytes(0x0803, [2, 2, 2], new byte[8]);
        byte[] labels = caseName switch
        {
            "count-mismatch" => IdxBytes(0x0801, [3], [1, 2, 3]),
            "label-ten" => IdxBytes(0x0801, [2], [1, 10]),
            "labels-are-images" => images,
            _ => IdxBytes(0x0801, [2], [1, 2]),
        };
        if (caseName == "images-are-labels")
            images = labels;
        string imagesPath = temp.Write("images.idx", images);
        string labelsPath = caseName == "labels-missing" ? Path.Combine(temp.Path, "labels.idx") : temp.Write("labels.idx", labels);

        var error = Assert.Throws<DataFormatException>(() => Idx.ReadDataset(imagesPath, labelsPath, "pair"));

        foreach (string fragment in fragments)
            Assert.Contains(fragment, error.Message);
    }

    private static byte[] IdxBytes(int magic, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Keeps the 10-byte gzip header and replaces the deflate data with bytes that are not valid deflate.</summary>
    private static byte[] CorruptGzip(byte[] gzip)
    {
        byte[] damaged = (byte[])gzip.Clone();
        for (int i = 10; i < damaged.Length - 8; i++)
            damaged[i] = 0xFF;
        return damaged;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
