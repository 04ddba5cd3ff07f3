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
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null) =>
        Start([], args, workingDirectory, environment, timeout);

    /// <summary>
    /// The capabilities that let root read and search any file whatever its permission bits, in
    /// setpriv's syntax for dropping them. Without them, a file or folder with mode 000 fails to open
    /// with EACCES for root too.
    /// </summary>
    private const string PermissionOverrides = "-dac_override,-dac_read_search";

    private static readonly string[] UnprivilegedLauncher = ["setpriv", "--bounding-set", PermissionOverrides, "--inh-caps", "-all", "--"];

    /// <summary>Why a root test process cannot start digitnet through <see cref="UnprivilegedLauncher"/>, or null when it can.</summary>
    private static readonly Lazy<string?> UnprivilegedLauncherProblem = new(() =>
    {
        CliResult probe;
        try
        {
            probe = Start(UnprivilegedLauncher, ["--version"], workingDirectory: null, environment: null, timeout: null);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "setpriv (util-linux) is not installed";
        }
        return probe.ExitCode == 0 ? null : $"setpriv failed: {probe.StandardError.Trim()}";
    });

    /// <summary>
    /// Runs <c>digitnet ARGS</c> with file permissions in force. A root test process starts it
    /// through setpriv (util-linux) without the capabilities that bypass them. Skips the test where
    /// setpriv is missing or cannot drop them, except under CI=true, where that fails the test.
    /// </summary>
    public static CliResult RunWithFilePermissions(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        if (!Environment.IsPrivilegedProcess)
            return Run(args, workingDirectory, environment);

        if (UnprivilegedLauncherProblem.Value is { } problem)
        {
            string reason = $"the tests run as root, and digitnet cannot be started without the capabilities that bypass file permissions: {problem}";
            Assert.True(Environment.GetEnvironmentVariable("CI") is null, $"CI must be able to run this test, but {reason}");
            throw new SkipException(reason);
        }
        return Start(UnprivilegedLauncher, args, workingDirectory, environment, timeout: null);
    }

    /// <summary>
    /// Starts <c>dotnet DigitNet.Cli.dll ARGS</c>, behind the <paramref name="launcher"/> command
    /// and its arguments when that is not empty, and waits for it.
    /// </summary>
    private static CliResult Start(string[] launcher, IEnumerable<string> args, string? workingDirectory,
        IReadOnlyDictionary<string, string?>? environment, TimeSpan? timeout)
    {
        var start = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        if (launcher.Length > 0)
        {
            foreach (string arg in launcher.Skip(1)) start.ArgumentList.Add(arg);
            start.ArgumentList.Add("dotnet");
        }
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
