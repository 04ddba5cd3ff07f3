using System.Runtime.InteropServices;
using DigitNet.Kernels;

namespace DigitNet.Benchmarks;

/// <summary>The facts about the machine and software that a benchmark table needs beside it.</summary>
internal static class MachineInfo
{
    /// <summary>The CPU model name from /proc/cpuinfo, or the architecture where that file is absent.</summary>
    public static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Lines that describe the CPU, OS, runtime and DigitNet's GEMM kernel.</summary>
    public static IEnumerable<string> Describe()
    {
        yield return $"CPU: {CpuModel()}, {Environment.ProcessorCount} logical processors";
        yield return $"OS: {RuntimeInformation.OSDescription}";
        yield return $".NET: {RuntimeInformation.FrameworkDescription}, tiered compilation {(TieredCompilationEnabled() ? "on" : "off")}";
        var kernel = GemmKernel.Best;
        yield return $"DigitNet GEMM micro-kernel: {kernel.Kind} {kernel.Rows}x{kernel.Columns}";
        yield return $"Load average (1, 5, 15 min) at the start: {LoadAverage()}";
    }

    /// <summary>
    /// The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown". On a machine shared
    /// with other work, a load above the core count means the timings include waiting for a core.
    /// </summary>
    public static string LoadAverage()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return "unknown";
        string[] fields = File.ReadAllText(path).Split(' ');
        return fields.Length >= 3 ? $"{fields[0]} {fields[1]} {fields[2]}" : "unknown";
    }

    /// <summary>Whether the runtime compiles methods in tiers (set by the project's TieredCompilation property).</summary>
    public static bool TieredCompilationEnabled() =>
        AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool enabled) ? enabled : true;

    /// <summary>The OpenBLAS environment variables that change its kernel choice, as they are in this process.</summary>
    public static string OpenBlasEnvironment()
    {
        string Value(string name) => Environment.GetEnvironmentVariable(name) ?? "unset";
        return $"OPENBLAS_CORETYPE={Value("OPENBLAS_CORETYPE")}, OPENBLAS_L2_SIZE={Value("OPENBLAS_L2_SIZE")}";
    }
}
