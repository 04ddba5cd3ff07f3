namespace DigitNet.Data;

/// <summary>
/// The error that every data reader throws when a file cannot be loaded: a missing or unreadable
/// file, a damaged or truncated file, an unsupported format version or array type, or content
/// that does not fit the expected shape. The message is one line that names the file, the
/// variable or record when there is one, the value found and what to do.
/// </summary>
/// <remarks>
/// Readers map <see cref="FileNotFoundException"/>, <see cref="DirectoryNotFoundException"/> and
/// other I/O failures on open to this type and keep the original as the inner exception, so a
/// caller needs only one catch for "this data could not be loaded".
/// </remarks>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string message) : base(message) { }

    public DataFormatException(string message, Exception innerException) : base(message, innerException) { }
}
