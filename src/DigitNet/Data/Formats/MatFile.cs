namespace DigitNet.Data.Formats;

/// <summary>
/// The variables of a MATLAB level 5 MAT-file (the format of <c>save -v6</c> and <c>save -v7</c>),
/// in either byte order, with compressed and uncompressed variables.
/// </summary>
/// <remarks>
/// Real numeric and logical arrays of any rank are read into <see cref="Arrays"/>. Variables of
/// other kinds (char, cell, struct, object, sparse, complex) are listed in
/// <see cref="UnsupportedVariables"/> and raise an error only when a caller asks for them, so a
/// file that also contains, say, a description string still loads. MAT-file versions 4 and 7.3
/// (HDF5) are rejected with a hint to save the file again as version 7 or 6.
/// </remarks>
public sealed class MatFile
{
    private readonly MatArray[] _arrays;
    private readonly MatUnsupportedVariable[] _unsupported;

    internal MatFile(string displayName, string headerText, bool isBigEndian, MatArray[] arrays, MatUnsupportedVariable[] unsupported)
    {
        DisplayName = displayName;
        HeaderText = headerText;
        IsBigEndian = isBigEndian;
        _arrays = arrays;
        _unsupported = unsupported;
    }

    /// <summary>File name used in error messages: the path given to <see cref="Read(string)"/>.</summary>
    public string DisplayName { get; }

    /// <summary>Descriptive text of the header, such as "MATLAB 5.0 MAT-file, Platform: ...", without trailing blanks.</summary>
    public string HeaderText { get; }

    /// <summary>Whether the file was written in big-endian byte order ("MI" in the header).</summary>
    public bool IsBigEndian { get; }

    /// <summary>The real numeric and logical variables, in file order.</summary>
    public IReadOnlyList<MatArray> Arrays => _arrays;

    /// <summary>Variables that this reader skipped because of their kind, in file order.</summary>
    public IReadOnlyList<MatUnsupportedVariable> UnsupportedVariables => _unsupported;

    /// <summary>Reads a MAT-file from disk.</summary>
    /// <exception cref="DataFormatException">
    /// The file is missing, unreadable, not a level 5 MAT-file, truncated or damaged. A missing
    /// file is reported this way too, with the <see cref="FileNotFoundException"/> as inner exception.
    /// </exception>
    public static MatFile Read(string path)
    {
        byte[] bytes;
        using (var stream = DataFile.OpenRead(path))
            bytes = DataFile.ReadToEnd(stream, path);
        return MatFileParser.Parse(bytes, path);
    }

    /// <summary>
    /// Reads a MAT-file from the current position of <paramref name="stream"/> to its end.
    /// <paramref name="displayName"/> names the source in error messages.
    /// </summary>
    /// <exception cref="DataFormatException">The content is not a level 5 MAT-file, or it is truncated or damaged.</exception>
    public static MatFile Read(Stream stream, string displayName)
    {
        byte[] bytes = DataFile.ReadToEnd(stream, displayName);
        return MatFileParser.Parse(bytes, displayName);
    }

    /// <summary>Returns the variable called <paramref name="name"/> (case-sensitive, like MATLAB), or null if the file has none.</summary>
    /// <exception cref="DataFormatException">The variable exists but is of a kind this reader does not support.</exception>
    public MatArray? Find(string name)
    {
        foreach (var array in _arrays)
        {
            if (array.Name == name)
                return array;
        }

        foreach (var variable in _unsupported)
        {
            if (variable.Name == name)
            {
                throw new DataFormatException(
                    $"{DisplayName}: variable '{name}' is {variable.Description}, which DigitNet cannot read; " +
                    "save it as a real numeric or logical matrix (for example with double(...) or full(...))");
            }
        }
        return null;
    }

    /// <summary>Returns the variable called <paramref name="name"/> (case-sensitive, like MATLAB).</summary>
    /// <exception cref="DataFormatException">The file has no such variable, or it is of an unsupported kind.</exception>
    public MatArray Get(string name)
    {
        return Find(name) ?? throw new DataFormatException(
            $"{DisplayName}: variable '{name}' not found; the file has: {ListVariables()}");
    }

    private string ListVariables()
    {
        var names = _arrays.Select(a => a.Name).Concat(_unsupported.Select(v => v.Name)).ToList();
        return names.Count == 0 ? "no variables" : string.Join(", ", names);
    }
}

/// <summary>
/// A variable that <see cref="MatFile"/> skipped, with a description of its kind such as
/// "a struct array" or "a complex double array".
/// </summary>
public sealed record MatUnsupportedVariable(string Name, string Description);
