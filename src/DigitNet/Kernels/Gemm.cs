namespace DigitNet.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major matrices:
/// <c>C[m, n] = op(A)[m, k] * op(B)[k, n] (+ C when accumulating)</c>, where op transposes when asked.
/// </summary>
/// <remarks>Placeholder: naive loops. Replaced by the packed SIMD version.</remarks>
public static class Gemm
{
    /// <summary>
    /// Multiplies. <paramref name="a"/> is <c>[m, k]</c> (or <c>[k, m]</c> when <paramref name="transposeA"/>)
    /// with row stride <paramref name="lda"/>; likewise <paramref name="b"/> is <c>[k, n]</c> (or <c>[n, k]</c>);
    /// <paramref name="c"/> is <c>[m, n]</c> with row stride <paramref name="ldc"/>.
    /// </summary>
    public static void Multiply(
        bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate = false, WorkerPool? workers = null)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
        }
    }
}
