using System.Diagnostics;
using DigitNet.Data;
using DigitNet.Models;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.TestHelper;
using Xunit.Abstractions;

namespace DigitNet.Tests.Serialization;

public sealed class AtomicWriteKillTests(ITestOutputHelper output)
{
    private const int Kills = 8;

    [Fact]
    public void KilledWriterLeavesOldOrNewModel()
    {
        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "model.safetensors");
        var versions = new[] { new Network(Program.LargeArchitecture), new Network(Program.LargeArchitecture) };
        Program.Fill(versions[0], 0);
        Program.Fill(versions[1], 1);
        ModelFile.Save(path, versions[0], Preprocessing.Create(PreprocessingKind.Scale255), "cross-entropy", DigitsMat.ClassNames);

        var random = new Random(12345);
        var clock = Stopwatch.StartNew();
        int[] seen = [0, 0];
        long totalWrites = 0;
        for (int kill = 0; kill < Kills; kill++)
        {
            // Kill at a random moment after the writer has started saving.
            long writes = RunWriterAndKill(path, TimeSpan.FromMilliseconds(random.Next(0, 250)));
            totalWrites += writes;

            var loaded = ModelFile.Load(path);
            int version = Array.FindIndex(versions, v => v.ParameterValues.AsSpan().SequenceEqual(loaded.Network.ParameterValues));
            Assert.True(version >= 0, $"kill {kill}: the file loads but holds neither the old nor the new weights");
            seen[version]++;
        }

        output.WriteLine($"{Kills} kills after {totalWrites} completed writes in {clock.Elapsed.TotalSeconds:F1} s; found version 0 {seen[0]} times, version 1 {seen[1]} times");
        Assert.True(totalWrites >= Kills, $"the writer completed only {totalWrites} saves, so the kills may all have come before any write");

        // Killed writers leave their temporary files behind; the target itself is never one of them.
        Assert.All(Directory.GetFiles(folder.Path).Where(f => f != path), f => Assert.EndsWith(".tmp", f));
    }

    /// <summary>Starts the helper writing models to <paramref name="path"/>, waits for its first save plus <paramref name="delay"/>, then kills it.</summary>
    private static long RunWriterAndKill(string path, TimeSpan delay)
    {
        string helper = Path.Combine(AppContext.BaseDirectory, "DigitNet.TestHelper.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(helper);
        start.ArgumentList.Add("write-models");
        start.ArgumentList.Add(path);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the test helper");
        try
        {
            string? first = process.StandardOutput.ReadLine();
            Assert.NotNull(first);
            Assert.StartsWith("written", first);
            Thread.Sleep(delay);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        string rest = process.StandardOutput.ReadToEnd();
        return 1 + rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
