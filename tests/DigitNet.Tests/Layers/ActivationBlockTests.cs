using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Layers;

/// <summary>
/// Activations of tensors large enough to be processed in blocks, which a worker pool spreads
/// over its threads: the result equals the element-wise kernel on the whole tensor and does not
/// depend on the thread count.
/// </summary>
public sealed class ActivationBlockTests
{
    // 2 x 20,483 values: above the block threshold, and the last block is not a whole number of vectors.
    private static readonly TensorShape Sample = new(20_483);
    private const int Batch = 2;

    /// <summary>
    /// (kind, batch, features): two large samples, and a batch of 19 samples of 250 values that
    /// splits into six blocks of 3 samples and a last block of 1.
    /// </summary>
    public static TheoryData<string, int, int> KindsAndShapes()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string kind in new[] { "sigmoid", "tanh", "relu" })
        {
            data.Add(kind, Batch, Sample[0]);
            data.Add(kind, 19, 250);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndShapes))]
    public void ForwardAndBackward_SameForAnyThreadCount(string kind, int batch, int features)
    {
        var random = new RandomSource(41);
        var sample = new TensorShape(features);
        var x = new Tensor(sample.WithBatch(batch));
        var dy = new Tensor(sample.WithBatch(batch));
        GradientCheck.Fill(x.Span, random);
        GradientCheck.Fill(dy.Span, random);

        var (y1, dx1) = Run(kind, x, dy, threads: 1);
        var (y2, dx2) = Run(kind, x, dy, threads: 2);
        var (y3, dx3) = Run(kind, x, dy, threads: 3);

        Assertions.BitwiseEqual(y1, y2, $"{kind} y, 2 threads vs 1");
        Assertions.BitwiseEqual(y1, y3, $"{kind} y, 3 threads vs 1");
        Assertions.BitwiseEqual(dx1, dx2, $"{kind} dx, 2 threads vs 1");
        Assertions.BitwiseEqual(dx1, dx3, $"{kind} dx, 3 threads vs 1");
    }

    [Theory]
    [MemberData(nameof(KindsAndShapes))]
    public void Forward_MatchesElementwiseKernel(string kind, int batch, int features)
    {
        var x = new Tensor(new TensorShape(features).WithBatch(batch));
        GradientCheck.Fill(x.Span, new RandomSource(42));
        var expected = new float[x.Size];
        switch (kind)
        {
            case "sigmoid": Elementwise.Sigmoid(x.Span, expected); break;
            case "tanh": Elementwise.Tanh(x.Span, expected); break;
            default: Elementwise.Relu(x.Span, expected); break;
        }

        var (y, _) = Run(kind, x, dy: null, threads: 2);

        Assertions.AllClose(expected, y, 1e-6, 1e-6, $"{kind} y in blocks against one call");
    }

    private static (float[] Y, float[] Dx) Run(string kind, Tensor x, Tensor? dy, int threads)
    {
        var sample = new TensorShape(x.Size / x.Shape[0]);
        Layer layer = kind switch
        {
            "sigmoid" => new Sigmoid("act", sample),
            "tanh" => new Tanh("act", sample),
            _ => new Relu("act", sample),
        };
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        layer.Workers = pool;

        float[] y = layer.Forward(x, training: true).Span.ToArray();
        float[] dx = dy is null ? [] : layer.Backward(dy)!.Span.ToArray();
        return (y, dx);
    }
}
