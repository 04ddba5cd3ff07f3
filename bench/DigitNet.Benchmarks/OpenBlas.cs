using System.Runtime.InteropServices;

namespace DigitNet.Benchmarks;

/// <summary>
/// Bindings to OpenBLAS's <c>cblas_sgemm</c> and its thread and build queries, for the GEMM
/// comparison only. DigitNet itself never calls a BLAS.
/// </summary>
/// <remarks>
/// The library is Debian's <c>libopenblas0-pthread</c>: <c>libopenblas.so.0</c> on the loader path
/// (the alternatives link in /usr/lib/x86_64-linux-gnu), else the pthread build's own folder.
/// OpenBLAS picks its kernel when it loads, from the CPU or from <c>OPENBLAS_CORETYPE</c>, so that
/// variable has to be set or removed in the environment of the whole process.
/// </remarks>
internal static unsafe partial class OpenBlas
{
    private const string LibraryName = "openblas";

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
    ];

    private const int RowMajor = 101;
    private const int NoTranspose = 111;
    private const int Transpose = 112;

    // An explicit static constructor runs before any member, P/Invoke calls included, so the
    // resolver is in place before the runtime first looks for the library.
    static OpenBlas()
    {
        Path = Load();
    }

    /// <summary>The path OpenBLAS was loaded from, or null when no candidate loads.</summary>
    public static string? Path { get; }

    /// <summary>Whether OpenBLAS could be loaded.</summary>
    public static bool IsAvailable => Path is not null;

    /// <summary>The kernel family OpenBLAS runs, such as <c>Cooperlake</c> or <c>Haswell</c>.</summary>
    public static string CoreName => Marshal.PtrToStringUTF8(GetCoreName()) ?? "unknown";

    /// <summary>The build description, such as <c>OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64</c>.</summary>
    public static string Config => Marshal.PtrToStringUTF8(GetConfig()) ?? "unknown";

    /// <summary>Threads OpenBLAS uses for one call.</summary>
    public static int Threads
    {
        get => GetThreadCount();
        set => SetThreadCount(value);
    }

    /// <summary>
    /// <c>C = op(A) op(B)</c> on row-major matrices, with the argument order of
    /// <see cref="Kernels.Gemm.Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, Kernels.WorkerPool?)"/>.
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        Sgemm(RowMajor, transposeA ? Transpose : NoTranspose, transposeB ? Transpose : NoTranspose,
            m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
    }

    private static string? Load()
    {
        foreach (string candidate in Candidates)
        {
            if (!NativeLibrary.TryLoad(candidate, out IntPtr handle))
                continue;
            NativeLibrary.SetDllImportResolver(typeof(OpenBlas).Assembly,
                (name, _, _) => name == LibraryName ? handle : IntPtr.Zero);
            return candidate;
        }
        return null;
    }

    /// <summary>Loads the library before the first call, or throws when it is not installed.</summary>
    public static void EnsureLoaded()
    {
        if (!IsAvailable)
        {
            throw new DllNotFoundException(
                $"OpenBLAS not found (tried {string.Join(", ", Candidates)}); install it with `apt-get install libopenblas0-pthread`");
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "cblas_sgemm")]
    private static partial void Sgemm(int order, int transposeA, int transposeB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(LibraryName, EntryPoint = "openblas_get_corename")]
    private static partial IntPtr GetCoreName();

    [LibraryImport(LibraryName, EntryPoint = "openblas_get_config")]
    private static partial IntPtr GetConfig();

    [LibraryImport(LibraryName, EntryPoint = "openblas_get_num_threads")]
    private static partial int GetThreadCount();

    [LibraryImport(LibraryName, EntryPoint = "openblas_set_num_threads")]
    private static partial void SetThreadCount(int threads);
}
