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
/// <para>Computed as im2col and one matrix product per group of samples: the column blocks of the
/// group's samples side by side form <c>col[C*KH*KW, g*OH*OW]</c>, and
/// <c>y_cm[OUT, g*OH*OW] = W col</c> is then copied to the batch-major output with the bias added.
/// Backward uses the same layout: <c>dW_group = dy_cm col^T</c>, <c>db = sums of dy's planes</c>,
/// <c>dcol = W^T dy_cm</c>, and col2im adds <c>dcol</c> onto <c>dx</c>.</para>
/// <para>Groups run in parallel, each on one worker from im2col to the copy into the output, so a
/// pass synchronises its threads once and a group's matrices stay in that worker's cache. The
/// weight gradient is summed over the groups' partial products in group order. A group has at
/// most <see cref="ColumnBudget"/> column values and at most 1/<see cref="MinimumGroups"/> of
/// the batch. Neither limit depends on the thread count, so neither do the results. In training,
/// the column matrices of the whole batch are kept for backward, up to 64 MiB.</para>
/// </remarks>
public sealed class Conv2D : Layer
{
    /// <summary>
    /// Default of <see cref="ColumnBudget"/>: 2^18 floats, 1 MiB, the L2 cache of one core of the
    /// AMD EPYC (Zen 4) that bench/DigitNet.Benchmarks ran on.
    /// </summary>
    public const int DefaultColumnBudget = 1 << 18;

    /// <summary>
    /// Minimum number of groups a batch is split into when it has at least that many samples,
    /// enough to keep up to eight threads busy with a training batch.
    /// </summary>
    public const int MinimumGroups = 8;

    private readonly ConvGeometry _geometry;
    private readonly int _outChannels;
    private readonly Parameter _weight;
    private readonly Parameter? _bias;
    private readonly Parameter[] _parameters;
    private readonly GroupJob _job;

    // Column matrices, one slot of ColumnRows * Stride floats (see GroupLayout) per group of the
    // batch (training) or per worker (inference). Backward overwrites a group's columns with dcol.
    private readonly AlignedBuffer _col = new();
    private readonly AlignedBuffer _channelMajor = new(); // one [OUT, Stride] slot per worker
    private float[] _planeSums = [];    // [N, OUT]: sum of each output plane of dy, for db
    private float[] _weightPartials = []; // [groups, OUT, ColumnRows]: dW of each group
    private Tensor? _x, _y, _dx;
    private Tensor? _dy; // set only during Backward, for the group job

    // The batch size whose columns _col contains for every group, or -1 when it has none.
    private int _keptBatch = -1;

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
        _job = new GroupJob(this);
    }

    /// <summary>Largest column matrix, in floats, that one group of samples may fill; at least one sample is always taken.</summary>
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
        WeightInitializer.Fill(_weight.Value, init, fanIn, fanOut, random);
        _bias?.Value.Clear();
    }

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, OUT, OH, OW]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        _x = x;
        var y = EnsureBuffer(ref _y, n, OutputShape);
        var layout = Layout(n);
        bool keepColumns = training && (long)layout.Groups * layout.ColumnSlot <= KeptColumnLimit;
        _col.EnsureCapacity((keepColumns ? layout.Groups : WorkerCount) * layout.ColumnSlot);
        _channelMajor.EnsureCapacity(WorkerCount * layout.ChannelMajorSlot);
        Run(Stage.Forward, layout, layout.Groups, keepColumns);
        _keptBatch = keepColumns ? n : -1;
        return y;
    }

    /// <summary>dy: <c>[N, OUT, OH, OW]</c>; overwrites dW and db and returns dx: <c>[N, C, H, W]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        int n = x.Shape[0];
        var layout = Layout(n);
        bool columnsKept = _keptBatch == n;
        if (!columnsKept) _col.EnsureCapacity(WorkerCount * layout.ColumnSlot);
        _channelMajor.EnsureCapacity(WorkerCount * layout.ChannelMajorSlot);
        EnsureCapacity(ref _planeSums, n * _outChannels);
        EnsureCapacity(ref _weightPartials, layout.Groups * _weight.Length);
        if (ComputesInputGradient) EnsureBuffer(ref _dx, n, InputShape);
        _dy = dy;
        Run(Stage.Backward, layout, layout.Groups, columnsKept);
        _keptBatch = -1; // dcol has replaced the columns
        _dy = null;

        // dW = sum of the groups' partial products in group order, split over elements
        Run(Stage.SumWeightGradient, layout, (_weight.Length + SumBlock - 1) / SumBlock, columnsKept);

        // db[o] = sum over the samples, in order, of the plane sums that the groups computed
        if (_bias is not null)
        {
            var db = _bias.Gradient;
            for (int o = 0; o < _outChannels; o++)
            {
                float sum = 0;
                for (int i = 0; i < n; i++) sum += _planeSums[i * _outChannels + o];
                db[o] = sum;
            }
        }
        return ComputesInputGradient ? _dx : null;
    }

    // Largest column storage, in floats (64 MiB), that training keeps from forward for backward.
    // Above it, as in full-batch training on a large data set, backward rebuilds the columns.
    private const int KeptColumnLimit = 1 << 24;

    // Elements of dW per block of the parallel sum over groups.
    private const int SumBlock = 2048;

    private int WorkerCount => Workers?.ThreadCount ?? 1;

    /// <summary>How a batch of <paramref name="batch"/> samples splits into groups, and the buffer slot sizes.</summary>
    private GroupLayout Layout(int batch)
    {
        int plane = _geometry.OutputPlaneSize;
        long perSample = (long)_geometry.ColumnRows * plane;
        int byBudget = (int)Math.Clamp(ColumnBudget / perSample, 1, Math.Max(batch, 1));
        int byCount = Math.Max(1, (batch + MinimumGroups - 1) / MinimumGroups);
        int groupSize = Math.Min(byBudget, byCount);
        int groups = (batch + groupSize - 1) / groupSize;

        // Rows start on cache lines (a multiple of 16 floats in aligned buffers), so the products
        // read them with whole-line loads. Rows a multiple of 4 KiB apart would share a few L1
        // sets in the products, and one cache line of padding spreads them out. Without it, the
        // 8 x 256 columns of a group of the benchmark CNN's first layer are 8 KiB apart.
        int stride = (groupSize * plane + 15) / 16 * 16;
        if (stride % 1024 == 0) stride += 16;
        return new GroupLayout(groupSize, groups, stride, _geometry.ColumnRows * stride, _outChannels * stride);
    }

    private static void EnsureCapacity(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    private void Run(Stage stage, GroupLayout layout, int count, bool columnsForBatch)
    {
        _job.Stage = stage;
        _job.Layout = layout;
        _job.ColumnsForBatch = columnsForBatch;
        // A group's result does not depend on the worker that computes it (each worker has its
        // own scratch space), so a faster core may take groups from a slower one.
        if (Workers is null) _job.Execute(0, count, 0);
        else Workers.RunBalanced(_job, count);
    }

    /// <summary>The forward or backward pass of group <paramref name="group"/>, on worker <paramref name="worker"/>.</summary>
    private void RunGroup(Stage stage, GroupLayout layout, bool columnsForBatch, int group, int worker)
    {
        var g = _geometry;
        int plane = g.OutputPlaneSize;
        int rows = g.ColumnRows;
        int first = group * layout.GroupSize;
        int count = Math.Min(layout.GroupSize, _x!.Shape[0] - first);
        int ld = count * plane;
        int stride = layout.Stride;
        var col = _col.Slice((columnsForBatch ? group : worker) * layout.ColumnSlot, layout.ColumnSlot);
        var channelMajor = _channelMajor.Slice(worker * layout.ChannelMajorSlot, layout.ChannelMajorSlot);

        if (stage == Stage.Forward || !columnsForBatch)
        {
            for (int i = 0; i < count; i++)
                Im2Col.Fill(_x.Sample(first + i), g, col[(i * plane)..], stride);
        }

        if (stage == Stage.Forward)
        {
            // y_cm[OUT, ld] = W[OUT, CKK] col[CKK, ld]
            Gemm.Multiply(false, false, _outChannels, ld, rows, _weight.Value, rows, col, stride, channelMajor, stride);
            var bias = _bias is null ? default : _bias.Value;
            for (int i = 0; i < count; i++)
                Convolution.ScatterSample(channelMajor, stride, i, plane, bias, _y!.Sample(first + i));
            return;
        }

        for (int i = 0; i < count; i++)
        {
            var dySample = _dy!.Sample(first + i);
            Convolution.GatherSample(dySample, plane, i, channelMajor, stride);
            if (_bias is null) continue;
            var sums = _planeSums.AsSpan((first + i) * _outChannels, _outChannels);
            for (int o = 0; o < _outChannels; o++)
                sums[o] = TensorPrimitives.Sum(dySample.Slice(o * plane, plane));
        }

        // dW_group[OUT, CKK] = dy_cm[OUT, ld] col^T[ld, CKK]
        Gemm.Multiply(false, true, _outChannels, rows, ld,
            channelMajor, stride, col, stride, _weightPartials.AsSpan(group * _weight.Length, _weight.Length), rows);

        if (!ComputesInputGradient) return;

        // dcol[CKK, ld] = W^T[CKK, OUT] dy_cm[OUT, ld], written over col, which dW no longer needs
        Gemm.Multiply(true, false, rows, ld, _outChannels, _weight.Value, rows, channelMajor, stride, col, stride);
        for (int i = 0; i < count; i++)
        {
            var dx = _dx!.Sample(first + i);
            dx.Clear();
            Im2Col.Accumulate(col[(i * plane)..], stride, g, dx);
        }
    }

    /// <summary>dW over elements [begin, end) of block range: the groups' partial products added in group order.</summary>
    private void SumWeightGradient(GroupLayout layout, int beginBlock, int endBlock)
    {
        int size = _weight.Length;
        int begin = beginBlock * SumBlock, end = Math.Min(endBlock * SumBlock, size);
        var dW = _weight.Gradient.Slice(begin, end - begin);
        _weightPartials.AsSpan(begin, end - begin).CopyTo(dW);
        for (int group = 1; group < layout.Groups; group++)
            TensorPrimitives.Add(dW, _weightPartials.AsSpan(group * size + begin, end - begin), dW);
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

    private enum Stage { Forward, Backward, SumWeightGradient }

    /// <param name="GroupSize">Samples per group; the last group may have fewer.</param>
    /// <param name="Groups">Number of groups in the batch.</param>
    /// <param name="Stride">Row stride of a group's column and channel-major matrices, at least GroupSize times the output plane.</param>
    /// <param name="ColumnSlot">Floats of one group's column matrix.</param>
    /// <param name="ChannelMajorSlot">Floats of one group's channel-major output or gradient.</param>
    private readonly record struct GroupLayout(int GroupSize, int Groups, int Stride, int ColumnSlot, int ChannelMajorSlot);

    /// <summary>Runs one <see cref="Stage"/> over a range of groups or dW blocks; cached so no pass allocates.</summary>
    private sealed class GroupJob(Conv2D layer) : IParallelJob
    {
        public Stage Stage;
        public GroupLayout Layout;
        public bool ColumnsForBatch;

        public void Execute(int begin, int end, int worker)
        {
            if (Stage == Stage.SumWeightGradient)
            {
                layer.SumWeightGradient(Layout, begin, end);
                return;
            }
            for (int group = begin; group < end; group++) layer.RunGroup(Stage, Layout, ColumnsForBatch, group, worker);
        }
    }
}

