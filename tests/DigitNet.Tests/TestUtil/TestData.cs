namespace DigitNet.Tests.TestUtil;

/// <summary>
/// Locates the repository and the shared data sets for tests. The data lives outside the
/// repository, in <c>../shared/data</c> beside the repository root; the environment variable
/// <c>DIGITNET_DATA</c> overrides the path of digits.mat, and the MNIST files are then looked up
/// in the <c>mnist</c> folder beside it.
/// </summary>
/// <remarks>
/// The properties throw when a file is absent, so a test that needs the data fails with a
/// message that gives the expected location, instead of passing without having run.
/// </remarks>
public static class TestData
{
    /// <summary>Environment variable that overrides the path of digits.mat.</summary>
    public const string DataVariable = "DIGITNET_DATA";

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The folder that contains DigitNet.slnx, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>Full path of digits.mat.</summary>
    /// <exception cref="FileNotFoundException">The file is not at the path in <c>DIGITNET_DATA</c> or at the default location.</exception>
    public static string DigitsMatPath => RequireFile(DigitsMatCandidate());

    /// <summary>Full path of the gzip-compressed MNIST test images (t10k-images-idx3-ubyte.gz).</summary>
    /// <exception cref="FileNotFoundException">The file is absent.</exception>
    public static string MnistTestImagesPath => RequireFile(Path.Combine(DataDirectory, "mnist", "t10k-images-idx3-ubyte.gz"));

    /// <summary>Full path of the gzip-compressed MNIST test labels (t10k-labels-idx1-ubyte.gz).</summary>
    /// <exception cref="FileNotFoundException">The file is absent.</exception>
    public static string MnistTestLabelsPath => RequireFile(Path.Combine(DataDirectory, "mnist", "t10k-labels-idx1-ubyte.gz"));

    /// <summary>The folder that contains digits.mat (whether or not the file exists).</summary>
    public static string DataDirectory => Path.GetDirectoryName(DigitsMatCandidate())!;

    private static string DigitsMatCandidate()
    {
        string? overridePath = Environment.GetEnvironmentVariable(DataVariable);
        if (!string.IsNullOrWhiteSpace(overridePath))
            return Path.GetFullPath(overridePath);
        return Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "digits.mat"));
    }

    private static string RequireFile(string path)
    {
        if (File.Exists(path))
            return path;
        throw new FileNotFoundException(
            $"test data not found at {path}; put the shared data folder at ../shared/data beside the repository root " +
            $"or set {DataVariable} to the full path of digits.mat",
            path);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "DigitNet.slnx")))
                return directory.FullName;
        }
        throw new InvalidOperationException(
            $"no DigitNet.slnx found in {AppContext.BaseDirectory} or any parent folder; run the tests from inside the repository");
    }
}
