using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// The configuration of every micro-benchmark: the memory diagnoser (bytes allocated per call) and
/// a shorter job than BenchmarkDotNet's default, because the GEMM table alone has about 80 cases.
/// Pass <c>--job default</c> for the full statistics.
/// </summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithId("digitnet"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
