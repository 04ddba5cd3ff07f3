namespace DigitNet.Kernels;

/// <summary>
/// Operands of one <see cref="Gemm"/> multiplication as raw pointers, valid while the caller keeps
/// the spans pinned. Names and shapes are those of the parameters of <c>Gemm.Multiply</c>.
/// </summary>
internal unsafe struct GemmOperands
{
    public bool TransposeA;
    public bool TransposeB;
    public int M;
    public int N;
    public int K;
    public float* A;
    public nint Lda;
    public float* B;
    public nint Ldb;
    public float* C;
    public nint Ldc;
    public bool Accumulate;

    /// <summary>
    /// Whether the product is stored transposed: element (i, j) goes to <c>C[j * Ldc + i]</c>.
    /// <see cref="Gemm"/> sets it when it computes C^T = op(B)^T op(A)^T because that shape
    /// fills the kernel tiles better.
    /// </summary>
    public bool TransposeC;

    /// <summary>Returns the operands of C^T = op(B)^T op(A)^T, which writes the same C.</summary>
    public readonly GemmOperands Transposed() => this with
    {
        TransposeA = !TransposeB,
        TransposeB = !TransposeA,
        M = N,
        N = M,
        A = B,
        Lda = Ldb,
        B = A,
        Ldb = Lda,
        TransposeC = !TransposeC,
    };
}
