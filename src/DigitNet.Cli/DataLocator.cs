namespace DigitNet.Cli;

/// <summary>Finds digits.mat: the --data option, then $DIGITNET_DATA, then ./data/digits.mat.</summary>
public static class DataLocator
{
    public const string EnvironmentVariable = "DIGITNET_DATA";

    /// <summary>Returns the path to read, or throws a usage error that lists where it looked.</summary>
    public static string Resolve(string? option)
    {
        if (option is not null)
        {
            if (Directory.Exists(option))
                throw new UsageException($"--data: {option} is a folder; give the path of the digits.mat file in it");
            if (!File.Exists(option))
                throw new UsageException($"--data: file not found: {option}");
            return option;
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            if (Directory.Exists(fromEnvironment))
                throw new UsageException($"${EnvironmentVariable}: {fromEnvironment} is a folder; set it to the path of the digits.mat file in it");
            if (!File.Exists(fromEnvironment))
                throw new UsageException($"${EnvironmentVariable}: file not found: {fromEnvironment}");
            return fromEnvironment;
        }

        string local = Path.Combine("data", "digits.mat");
        if (File.Exists(local)) return local;
        throw new UsageException($"no data file: pass --data PATH/digits.mat, set ${EnvironmentVariable}, or put it at ./{local}");
    }
}
