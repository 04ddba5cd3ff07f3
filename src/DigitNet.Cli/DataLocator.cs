using DigitNet.Data.Formats;

namespace DigitNet.Cli;

/// <summary>Finds digits.mat: the --data option (or a --config file's "data" key), then $DIGITNET_DATA, then ./data/digits.mat.</summary>
public static class DataLocator
{
    public const string EnvironmentVariable = "DIGITNET_DATA";

    /// <summary>
    /// Returns the path to read. Throws a usage error when that file is missing, unreadable or
    /// empty. When no source names a file, the usage error lists where it looked.
    /// <paramref name="optionLabel"/> names the source of <paramref name="option"/> in messages:
    /// "--data", or the configuration file and key.
    /// </summary>
    public static string Resolve(string? option, string optionLabel = "--data")
    {
        if (option is not null)
        {
            if (Directory.Exists(option))
                throw new UsageException($"{optionLabel}: {option} is a folder; give the path of the digits.mat file in it");
            CheckInput(optionLabel, option);
            return option;
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            if (Directory.Exists(fromEnvironment))
                throw new UsageException($"${EnvironmentVariable}: {fromEnvironment} is a folder; set it to the path of the digits.mat file in it");
            CheckInput($"${EnvironmentVariable}", fromEnvironment);
            return fromEnvironment;
        }

        string local = Path.Combine("data", "digits.mat");
        if (File.Exists(local))
        {
            CheckInput(FileChecks.DataLabel(null), local);
            return local;
        }
        throw new UsageException($"no data file: pass --data PATH/digits.mat, set ${EnvironmentVariable}, or put it at ./{local}");
    }

    private static void CheckInput(string label, string path) =>
        FileChecks.CheckInput(label, path, FileSignature.Describe(FileFormat.Mat));
}
