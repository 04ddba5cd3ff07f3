using System.Diagnostics;

namespace DigitNet.Tests.TestUtil;

/// <summary>Output of one <c>digitnet</c> process.</summary>
public sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}

/// <summary>
/// Runs the real command-line app as a child process (the DigitNet.Cli.dll built next to the tests),
/// so that exit codes, standard error and files on disk are tested as a user sees them.
/// </summary>
public static class CliRunner
{
    private static readonly string CliPath = Path.Combine(AppContext.BaseDirectory, "DigitNet.Cli.dll");

    /// <summary>Runs <c>digitnet ARGS</c> in <paramref name="workingDirectory"/> and waits up to <paramref name="timeout"/>.</summary>
    public static CliResult Run(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        start.ArgumentList.Add(CliPath);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("DIGITNET_DATA");
        start.Environment.Remove("DIGITNET_DEBUG");
        if (environment is not null)
        {
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"digitnet {string.Join(' ', args)} did not finish in time");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs <c>digitnet ARGS</c> in the current directory.</summary>
    public static CliResult Run(params string[] args) => Run((IEnumerable<string>)args);
}
