using DigitNet.Data;
using DigitNet.Models;
using DigitNet.Serialization;
using DigitNet.Tensors;

namespace DigitNet.TestHelper;

/// <summary>
/// Child-process modes for tests. <c>write-models PATH</c> writes two alternating versions of a
/// large model to PATH in an endless loop and prints <c>written N</c> after each save, so a test
/// can kill it at any moment and check what is left on disk.
/// </summary>
public static class Program
{
    /// <summary>The model the writer saves: about 4.3 MB of float32 weights.</summary>
    public static Architecture LargeArchitecture { get; } = Architecture.Parse(new TensorShape(1, 16, 16), "dense 4096, relu, dense 10");

    /// <summary>Fills <paramref name="network"/> with the values of version 0 or 1, which differ in every element.</summary>
    public static void Fill(Network network, int version)
    {
        var values = network.ParameterValues;
        for (int i = 0; i < values.Length; i++) values[i] = (version == 0 ? 1 : -1) * (1 + i * 1e-6f);
    }

    public static int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != "write-models")
        {
            Console.Error.WriteLine("usage: DigitNet.TestHelper write-models PATH");
            return 2;
        }

        var networks = new[] { new Network(LargeArchitecture), new Network(LargeArchitecture) };
        Fill(networks[0], 0);
        Fill(networks[1], 1);
        var preprocessing = Preprocessing.Create(PreprocessingKind.Scale255);
        for (long n = 0; ; n++)
        {
            ModelFile.Save(args[1], networks[n % 2], preprocessing, "cross-entropy", DigitsMat.ClassNames);
            Console.Out.WriteLine($"written {n}");
            Console.Out.Flush();
        }
    }
}
