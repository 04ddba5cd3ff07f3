namespace DigitNet.Serialization;

/// <summary>
/// The error that the model-file readers throw for a file they cannot trust: too short, a header
/// length beyond the file, invalid JSON, an unknown dtype, offsets outside the data or
/// overlapping, a tensor missing or of the wrong shape, or metadata that does not describe a
/// DigitNet model. The message is one line that names the file, the tensor or key when there is
/// one, the expected and the actual value.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message) { }

    public ModelFormatException(string message, Exception innerException) : base(message, innerException) { }
}
