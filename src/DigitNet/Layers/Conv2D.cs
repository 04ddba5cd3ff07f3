using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as in every framework):
/// <c>y[n, o, oy, ox] = b[o] + sum over c, ky, kx of W[o, c, ky, kx] * x[n, c, oy*SH - PH + ky, ox*SW - PW + kx]</c>,
/// with zeros outside the input. x: <c>[N, C, H, W]</c>; W: <c>[OUT, C, KH, KW]</c>; b: <c>[OUT]</c>;
/// y: <c>[N, OUT, OH, OW]</c> with the output size of <see cref="ConvGeometry"/>.
/// </summary>
/// <remarks>
/// Computed as im2col and one matrix product per chunk of samples: the column blocks of the
/// chunk's samples side by side form <c>col[C*KH*KW, n*OH*OW]</c>, and
/// <c>y_cm[OUT, n*OH*OW] = W col</c> is then copied to the batch-major output with the bias added.
/// Backward uses the same layout: <c>dW += dy_cm col^T</c>, <c>db += row sums of dy_cm</c>,
/// <c>dcol = W^T dy_cm</c>, and col2im adds <c>dcol</c> onto <c>dx</c>. A chunk contains as many
/// samples as fit <see cref="ColumnBudget"/> values, which keeps the column matrix in the L2
/// cache until the product reads it and bounds the buffers for large evaluation batches. When a
/// batch fits in one chunk, backward reuses the column matrix of the forward pass instead of
/// rebuilding it. The layout copies and im2col run in parallel over samples; the products use
/// the GEMM's own threads.
/// </remarks>
public sealed class Conv2D : Layer
{
    /// <summary>
    /// Default of <see cref="ColumnBudget"/>: 2^18 floats, 1 MiB, the L2 cache of one core of the
    /// AMD EPYC (Zen 4) that bench/DigitNet.Benchmarks ran on. im2col and the product give each
    /// thread the columns of its own samples, so with two threads each core holds half a chunk.
    /// On one thread 512 KiB was a few percent faster still, and 8 MiB, where the column matrix of
    /// a whole batch of the benchmark CNN spilled to L3, about 8% slower. The budget does not
    /// depend on the thread count, so neither do the results.
    /// </summary>
    public const int DefaultColumnBudget = 1 << 18;

    private readonly ConvGeometry _geometry;
    private readonly int _outChannels;
    private readonly Parameter _weight;
    private readonly Parameter? _bias;
    private readonly Parameter[] _parameters;
    private readonly SampleJob _job;

    private float[] _col = [];
    private float[] _channelMajor = [];
    private float[] _planeSums = []; // [chunk sample, OUT]: sum of each output plane of dy, for db
    private Tensor? _x, _y, _dx;
    private Tensor? _dy; // set only during Backward, for the sample job

    // The chunk that _col holds after the forward pass, so backward can reuse it (-1 for none).
    private int _colChunkStart = -1;
    private int _colChunkCount;

    /// <summary>
    /// Creates a convolution with <paramref name="outChannels"/> filters of
    /// <paramref name="kernelHeight"/> x <paramref name="kernelWidth"/> over inputs of shape
    /// <c>[C, H, W]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or the window does not fit it.</exception>
    public Conv2D(string name, TensorShape inputShape, int outChannels, int kernelHeight, int kernelWidth,
        int stride = 1, int padding = 0, bool bias = true)
        : base(name, inputShape, OutputShapeOf(name, inputShape, outChannels, kernelHeight, kernelWidth, stride, padding))
    {
        _geometry = CreateGeometry(inputShape, kernelHeight, kernelWidth, stride, padding);
        _outChannels = outChannels;
        var g = _geometry;
        _weight = new Parameter($"{name}.weight", new TensorShape(outChannels, g.Channels, kernelHeight, kernelWidth), ParameterKind.Weight);
        _bias = bias ? new Parameter($"{name}.bias", new TensorShape(outChannels), ParameterKind.Bias) : null;
        _parameters = _bias is null ? [_weight] : [_weight, _bias];
        _job = new SampleJob(this);
    }

    /// <summary>Largest column matrix, in floats, that one chunk of samples may fill.</summary>
    public int ColumnBudget { get; set; } = DefaultColumnBudget;

    /// <summary>Filters <c>[OUT, C, KH, KW]</c>.</summary>
    public Parameter Weight => _weight;

    /// <summary>Bias <c>[OUT]</c>, or null when the layer has none.</summary>
    public Parameter? Bias => _bias;

    /// <summary>Window sizes, stride and padding.</summary>
    public ConvGeometry Geometry => _geometry;

    public override IReadOnlyList<Parameter> Parameters => _parameters;

    public override string Describe()
    {
        var g = _geometry;
        string text = $"conv {g.Channels} -> {_outChannels} {g.KernelHeight}x{g.KernelWidth}";
        if (g.StrideHeight != 1) text += $" stride {g.StrideHeight}";
        if (g.PadHeight != 0) text += $" pad {g.PadHeight}";
        return _bias is null ? text + " (no bias)" : text;
    }

    /// <summary>Initialises the filters with fan-in <c>C*KH*KW</c> and fan-out <c>OUT*KH*KW</c>; the bias starts at zero.</summary>
    public override void Initialize(WeightInit init, RandomSource random)
    {
        var g = _geometry;
        int fanIn = g.ColumnRows;
        int fanOut = _outChannels * g.KernelHeight * g.KernelWidth;
        var w = _weight.Value;
        switch (init)
        {
            case WeightInit.Normal:
                double std = 1 / Math.Sqrt(fanIn);
                for (int i = 0; i < w.Length; i++) w[i] = (float)(std * random.NextNormal());
                break;
            case WeightInit.Xavier:
                double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < w.Length; i++) w[i] = (float)random.Uniform(-bound, bound);
                break;
            case WeightInit.He:
                double heStd = Math.Sqrt(2.0 / fanIn);
                for (int i = 0; i < w.Length; i++) w[i] = (float)(heStd * random.NextNormal());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(init), init, "unknown weight initialisation");
        }
        _bias?.Value.Clear();
    }

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, OUT, OH, OW]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        var y = EnsureBuffer(ref _y, n, OutputShape);
        _x = x;
        int plane = _geometry.OutputPlaneSize;
        int chunkSize = ChunkSize(n);

        for (int start = 0; start < n; start += chunkSize)
        {
            int count = Math.Min(chunkSize, n - start);
            int ld = count * plane;
            FillColumns(start, count);

            // y_cm[OUT, ld] = W[OUT, CKK] col[CKK, ld]
            Gemm.Multiply(false, false, _outChannels, ld, _geometry.ColumnRows,
                _weight.Value, _geometry.ColumnRows, _col, ld, _channelMajor, ld, workers: Workers);

            RunOverSamples(Stage.ScatterOutput, start, count);
        }
        return y;
    }

    /// <summary>dy: <c>[N, OUT, OH, OW]</c>; overwrites dW and db and returns dx: <c>[N, C, H, W]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        int n = x.Shape[0];
        int plane = _geometry.OutputPlaneSize;
        int rows = _geometry.ColumnRows;
        int chunkSize = ChunkSize(n);
        var dW = _weight.Gradient;
        var db = _bias is null ? default : _bias.Gradient;
        Tensor? dx = ComputesInputGradient ? EnsureBuffer(ref _dx, n, InputShape) : null;
        _dy = dy;

        for (int start = 0; start < n; start += chunkSize)
        {
            int count = Math.Min(chunkSize, n - start);
            int ld = count * plane;
            bool first = start == 0;
            if (_colChunkStart != start || _colChunkCount != count) FillColumns(start, count);
            RunOverSamples(Stage.GatherGradient, start, count);

            // dW[OUT, CKK] (+)= dy_cm[OUT, ld] col^T[ld, CKK]
            Gemm.Multiply(false, true, _outChannels, rows, ld,
                _channelMajor, ld, _col, ld, dW, rows, accumulate: !first, workers: Workers);

            // db[o] (+)= sum over the chunk's samples, in order, of the plane sums that the
            // gather stage computed in parallel
            for (int o = 0; !db.IsEmpty && o < _outChannels; o++)
            {
                float sum = 0;
                for (int i = 0; i < count; i++) sum += _planeSums[i * _outChannels + o];
                db[o] = first ? sum : db[o] + sum;
            }

            if (dx is null) continue;

            // dcol[CKK, ld] = W^T[CKK, OUT] dy_cm[OUT, ld], written over col, which dW no longer needs
            Gemm.Multiply(true, false, rows, ld, _outChannels,
                _weight.Value, rows, _channelMajor, ld, _col, ld, workers: Workers);
            _colChunkStart = -1;
            RunOverSamples(Stage.ScatterInputGradient, start, count);
        }
        _dy = null;
        return dx;
    }

    /// <summary>Samples per chunk: as many as keep the column matrix within <see cref="ColumnBudget"/>, at least one.</summary>
    private int ChunkSize(int batch)
    {
        long perSample = (long)_geometry.ColumnRows * _geometry.OutputPlaneSize;
        return (int)Math.Clamp(ColumnBudget / perSample, 1, Math.Max(batch, 1));
    }

    private void FillColumns(int start, int count)
    {
        int ld = count * _geometry.OutputPlaneSize;
        EnsureCapacity(ref _col, _geometry.ColumnRows * ld);
        EnsureCapacity(ref _channelMajor, _outChannels * ld);
        EnsureCapacity(ref _planeSums, _outChannels * count);
        RunOverSamples(Stage.FillColumns, start, count);
        _colChunkStart = start;
        _colChunkCount = count;
    }

    private static void EnsureCapacity(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    private void RunOverSamples(Stage stage, int start, int count)
    {
        _job.Stage = stage;
        _job.ChunkStart = start;
        _job.ChunkCount = count;
        if (Workers is null) _job.Execute(0, count, 0);
        else Workers.Run(_job, count);
    }

    /// <summary>One step of the pass for sample <paramref name="index"/> of the current chunk.</summary>
    private void RunStage(Stage stage, int chunkStart, int chunkCount, int index)
    {
        var g = _geometry;
        int plane = g.OutputPlaneSize;
        int ld = chunkCount * plane;
        int sample = chunkStart + index;
        switch (stage)
        {
            case Stage.FillColumns:
                Im2Col.Fill(_x!.Sample(sample), g, _col.AsSpan(index * plane), ld);
                break;
            case Stage.ScatterOutput:
                Convolution.ScatterSample(_channelMajor, ld, index, plane,
                    _bias is null ? default : _bias.Value, _y!.Sample(sample));
                break;
            case Stage.GatherGradient:
                var dySample = _dy!.Sample(sample);
                Convolution.GatherSample(dySample, plane, index, _channelMajor, ld);
                if (_bias is not null)
                {
                    for (int o = 0; o < _outChannels; o++)
                        _planeSums[index * _outChannels + o] = TensorPrimitives.Sum(dySample.Slice(o * plane, plane));
                }
                break;
            case Stage.ScatterInputGradient:
                var dx = _dx!.Sample(sample);
                dx.Clear();
                Im2Col.Accumulate(_col.AsSpan(index * plane), ld, g, dx);
                break;
        }
    }

    private static ConvGeometry CreateGeometry(TensorShape input, int kernelHeight, int kernelWidth, int stride, int padding) =>
        new(input[0], input[1], input[2], kernelHeight, kernelWidth, stride, stride, padding, padding);

    private static TensorShape OutputShapeOf(string name, TensorShape input, int outChannels,
        int kernelHeight, int kernelWidth, int stride, int padding)
    {
        if (input.Rank != 3)
            throw new ArgumentException($"{name}: a convolution needs input samples [C, H, W], got {input}; put it before any dense or flatten layer");
        if (outChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, $"{name}: output channels must be positive");
        try
        {
            var g = CreateGeometry(input, kernelHeight, kernelWidth, stride, padding);
            return new TensorShape(outChannels, g.OutHeight, g.OutWidth);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{name}: {e.Message} (input {input})", e);
        }
    }

    private enum Stage { FillColumns, ScatterOutput, GatherGradient, ScatterInputGradient }

    /// <summary>Runs one <see cref="Stage"/> over a range of samples of the current chunk; cached so no pass allocates.</summary>
    private sealed class SampleJob(Conv2D layer) : IParallelJob
    {
        public Stage Stage;
        public int ChunkStart;
        public int ChunkCount;

        public void Execute(int begin, int end, int worker)
        {
            for (int i = begin; i < end; i++) layer.RunStage(Stage, ChunkStart, ChunkCount, i);
        }
    }
}
