using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Batch normalisation (Ioffe and Szegedy, 2015, https://arxiv.org/abs/1502.03167):
/// <c>y = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c]</c> per channel <c>c</c>.
/// On <c>[N, C]</c> inputs (1-D) a channel is a feature and the statistics run over the batch; on
/// <c>[N, C, H, W]</c> inputs (2-D) they run over the batch and all pixels of the channel.
/// </summary>
/// <remarks>
/// In training the batch mean and biased variance normalise, and the running statistics move
/// towards them: <c>running = (1 - momentum) * running + momentum * batch</c>, with the unbiased
/// variance, as PyTorch does. In inference the running statistics normalise. Both are parameters
/// of kind <see cref="ParameterKind.Statistic"/>, so model files carry them and optimisers leave
/// them alone. When either of them is frozen (<see cref="Parameter.Frozen"/>), training passes
/// also normalise with the running statistics and leave them unchanged (see
/// <see cref="UsesRunningStatistics"/>). gamma (<c>.scale</c>) starts at 1 and beta (<c>.shift</c>) at 0. Channels (2-D)
/// or blocks of 64 features (1-D) run in parallel.
/// </remarks>
public sealed class BatchNorm : Layer
{
    private readonly int _channels, _planeSize;
    private readonly Parameter _scale, _shift, _runningMean, _runningVar;
    private readonly Parameter[] _parameters;
    private readonly ChannelJob _job;

    // Features per work item of a 1-D layer.
    private const int FeatureBlock = 64;

    // Per channel: the statistics used by the last forward pass (1 / sqrt(var + eps) included),
    // and the coefficients of the input gradient of a 1-D layer.
    private readonly float[] _mean, _variance, _inverseStd;
    private readonly float[] _gradientScale, _gradientMeanTerm, _gradientHatTerm;
    private Tensor? _xHat, _y, _dx, _x, _dy;
    // True when the pass normalised with the batch statistics, false when it used the running ones.
    private bool _usesBatchStatistics;
    private Pass _pass;

    /// <summary>Creates batch normalisation over <c>[C]</c> or <c>[C, H, W]</c> samples.</summary>
    /// <param name="name">Layer name, such as <c>batchnorm1</c>.</param>
    /// <param name="inputShape">Sample shape <c>[C]</c> or <c>[C, H, W]</c>.</param>
    /// <param name="momentum">Weight of the batch statistics in the running averages, in (0, 1].</param>
    /// <param name="epsilon">Added to the variance before the square root; positive.</param>
    /// <exception cref="ArgumentException">The sample shape is neither <c>[C]</c> nor <c>[C, H, W]</c>.</exception>
    public BatchNorm(string name, TensorShape inputShape, double momentum = 0.1, double epsilon = 1e-5)
        : base(name, inputShape, inputShape)
    {
        if (inputShape.Rank is not (1 or 3))
            throw new ArgumentException($"{name}: batch normalisation needs samples [C] or [C, H, W], got {inputShape}");
        if (!(momentum > 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{name}: momentum must be in (0, 1]");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{name}: epsilon must be positive");

        Momentum = momentum;
        Epsilon = epsilon;
        _channels = inputShape[0];
        _planeSize = inputShape.Rank == 3 ? inputShape[1] * inputShape[2] : 1;
        var shape = new TensorShape(_channels);
        _scale = new Parameter($"{name}.scale", shape, ParameterKind.Scale);
        _shift = new Parameter($"{name}.shift", shape, ParameterKind.Shift);
        _runningMean = new Parameter($"{name}.running_mean", shape, ParameterKind.Statistic);
        _runningVar = new Parameter($"{name}.running_var", shape, ParameterKind.Statistic);
        _parameters = [_scale, _shift, _runningMean, _runningVar];
        ResetValues();

        _mean = new float[_channels];
        _variance = new float[_channels];
        _inverseStd = new float[_channels];
        _gradientScale = new float[_channels];
        _gradientMeanTerm = new float[_channels];
        _gradientHatTerm = new float[_channels];
        _job = new ChannelJob(this);
    }

    /// <summary>Weight of the batch statistics in the running averages.</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>gamma <c>[C]</c>.</summary>
    public Parameter Scale => _scale;

    /// <summary>beta <c>[C]</c>.</summary>
    public Parameter Shift => _shift;

    /// <summary>Running mean <c>[C]</c>, used in inference.</summary>
    public Parameter RunningMean => _runningMean;

    /// <summary>Running (unbiased) variance <c>[C]</c>, used in inference.</summary>
    public Parameter RunningVariance => _runningVar;

    public override IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>
    /// True when the running mean or variance is frozen. Training passes then normalise with the
    /// running statistics, as inference does, and leave them unchanged, so the layer is a fixed
    /// function of its input while later layers are fine-tuned. Keras (TensorFlow 2) treats a
    /// BatchNormalization layer with <c>trainable = False</c> the same way. gamma and beta still
    /// get gradients and train unless they are frozen too.
    /// </summary>
    public bool UsesRunningStatistics => _runningMean.Frozen || _runningVar.Frozen;

    /// <summary>
    /// 2 when a sample contains one value per channel (1-D, or 2-D with 1x1 planes), because the
    /// batch variance needs at least 2 values per channel. 1 otherwise, and 1 while
    /// <see cref="UsesRunningStatistics"/> is true, because no batch variance is computed then.
    /// </summary>
    public override int MinTrainingBatchSize => _planeSize >= 2 || UsesRunningStatistics ? 1 : 2;

    public override string Describe() => _planeSize == 1 && InputShape.Rank == 1
        ? $"batchnorm 1d {_channels}"
        : $"batchnorm 2d {_channels}";

    /// <summary>Resets gamma to 1, beta to 0, the running mean to 0 and the running variance to 1.</summary>
    public override void Initialize(WeightInit init, RandomSource random) => ResetValues();

    private void ResetValues()
    {
        _scale.Value.Fill(1f);
        _shift.Value.Clear();
        _runningMean.Value.Clear();
        _runningVar.Value.Fill(1f);
    }

    /// <summary>x: <c>[N, C]</c> or <c>[N, C, H, W]</c>; y has the same shape.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        if (training && n < MinTrainingBatchSize)
            throw new ArgumentException($"{Name}: training needs at least 2 values per channel to estimate a variance, got a batch of {n}");

        _x = x;
        _usesBatchStatistics = training && !UsesRunningStatistics;
        _xHat = EnsureBuffer(ref _xHat, n, InputShape);
        _y = EnsureBuffer(ref _y, n, OutputShape);

        if (_usesBatchStatistics)
        {
            RunChannels(Pass.Statistics);
            UpdateRunningStatistics(n * _planeSize);
        }
        else
        {
            var runningMean = _runningMean.Value;
            var runningVar = _runningVar.Value;
            for (int c = 0; c < _channels; c++)
            {
                _mean[c] = runningMean[c];
                _inverseStd[c] = 1f / MathF.Sqrt(runningVar[c] + (float)Epsilon);
            }
        }
        RunChannels(Pass.Normalize);
        return _y;
    }

    /// <summary>
    /// dy: same shape as y; overwrites dgamma and dbeta and returns dx. After a pass with the batch
    /// statistics dx includes the paths through the batch mean and variance. After a pass with the
    /// running statistics (inference, or training while <see cref="UsesRunningStatistics"/>) the
    /// statistics are constants.
    /// </summary>
    public override Tensor? Backward(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        _dy = dy;
        RunChannels(Pass.ParameterGradients);
        if (ComputesInputGradient)
        {
            _dx = EnsureBuffer(ref _dx, x.Shape[0], InputShape);
            RunChannels(Pass.InputGradient);
        }
        _dy = null;
        return ComputesInputGradient ? _dx : null;
    }

    private void UpdateRunningStatistics(int count)
    {
        float momentum = (float)Momentum;
        float unbias = count / (float)(count - 1);
        var runningMean = _runningMean.Value;
        var runningVar = _runningVar.Value;
        for (int c = 0; c < _channels; c++)
        {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * _mean[c];
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * _variance[c] * unbias;
        }
    }

    private void RunChannels(Pass pass)
    {
        _pass = pass;

        // A 1-D layer works row by row over a block of features at once, which vectorises across
        // channels; splitting it by single channels would leave vectors of length 1. The blocks
        // are fixed, so the result does not depend on the thread count.
        int units = _planeSize == 1 ? (_channels + FeatureBlock - 1) / FeatureBlock : _channels;
        if (Workers is null) _job.Execute(0, units, 0);
        else Workers.Run(_job, units);
    }

    /// <summary>Runs the current pass over feature blocks (1-D) or channels (2-D) [begin, end).</summary>
    private void RunRange(int begin, int end)
    {
        if (_planeSize == 1) RunRows(_pass, begin * FeatureBlock, Math.Min(end * FeatureBlock, _channels));
        else RunPlanes(begin, end);
    }

    /// <summary>One pass for channels [begin, end) of a 2-D layer; channel c of sample n is the plane at <c>(n*C + c) * S</c>.</summary>
    private void RunPlanes(int begin, int end)
    {
        int n = _x!.Shape[0];
        int s = _planeSize;
        int stride = _channels * s;
        float count = n * s;
        var x = _x.Span;
        var xHat = _xHat!.Span;
        for (int c = begin; c < end; c++)
        {
            switch (_pass)
            {
                case Pass.Statistics:
                    // Two passes (mean, then squared deviations) keep the variance accurate when
                    // the mean is large compared with the spread.
                    float sum = 0;
                    for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(x.Slice(i * stride + c * s, s));
                    float mean = sum / count;
                    float squares = 0;
                    for (int i = 0; i < n; i++)
                    {
                        var centred = xHat.Slice(i * stride + c * s, s);
                        TensorPrimitives.Subtract(x.Slice(i * stride + c * s, s), mean, centred);
                        squares += TensorPrimitives.SumOfSquares(centred);
                    }
                    _mean[c] = mean;
                    _variance[c] = squares / count;
                    _inverseStd[c] = 1f / MathF.Sqrt(_variance[c] + (float)Epsilon);
                    break;

                case Pass.Normalize:
                    // xhat = (x - mean) * invstd;  y = gamma * xhat + beta
                    float gamma = _scale.Value[c], beta = _shift.Value[c];
                    var y = _y!.Span;
                    for (int i = 0; i < n; i++)
                    {
                        int offset = i * stride + c * s;
                        var plane = xHat.Slice(offset, s);
                        var output = y.Slice(offset, s);
                        if (_usesBatchStatistics)
                        {
                            TensorPrimitives.Multiply(plane, _inverseStd[c], plane);
                        }
                        else
                        {
                            TensorPrimitives.Multiply(x.Slice(offset, s), _inverseStd[c], plane);
                            TensorPrimitives.Add(plane, -_mean[c] * _inverseStd[c], plane);
                        }
                        TensorPrimitives.Multiply(plane, gamma, output);
                        TensorPrimitives.Add(output, beta, output);
                    }
                    break;

                case Pass.ParameterGradients:
                    // dbeta = sum(dy);  dgamma = sum(dy * xhat)
                    var dy = _dy!.Span;
                    float dBeta = 0, dGamma = 0;
                    for (int i = 0; i < n; i++)
                    {
                        int offset = i * stride + c * s;
                        dBeta += TensorPrimitives.Sum(dy.Slice(offset, s));
                        dGamma += TensorPrimitives.Dot(dy.Slice(offset, s), xHat.Slice(offset, s));
                    }
                    _shift.Gradient[c] = dBeta;
                    _scale.Gradient[c] = dGamma;
                    break;

                case Pass.InputGradient:
                    var (k, meanTerm, hatTerm) = InputGradientCoefficients(c, count);
                    var dys = _dy!.Span;
                    var dx = _dx!.Span;
                    for (int i = 0; i < n; i++)
                    {
                        int offset = i * stride + c * s;
                        var target = dx.Slice(offset, s);
                        TensorPrimitives.Multiply(dys.Slice(offset, s), k, target);
                        if (meanTerm != 0) TensorPrimitives.Add(target, meanTerm, target);
                        if (hatTerm != 0) TensorPrimitives.MultiplyAdd(xHat.Slice(offset, s), hatTerm, target, target);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Coefficients of <c>dx = k * dy + meanTerm + hatTerm * xhat</c> for channel <paramref name="c"/>.
    /// With the batch statistics: <c>dx = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma)</c>
    /// over the <c>M</c> values of the channel. With the running statistics: <c>dx = gamma * invstd * dy</c>.
    /// </summary>
    private (float K, float MeanTerm, float HatTerm) InputGradientCoefficients(int c, float count)
    {
        float k = _scale.Value[c] * _inverseStd[c];
        if (!_usesBatchStatistics) return (k, 0, 0);
        return (k, -k * _shift.Gradient[c] / count, -k * _scale.Gradient[c] / count);
    }

    /// <summary>
    /// The passes of a 1-D layer for features [begin, end), where channel c of sample n is element
    /// <c>n*C + c</c>.
    /// </summary>
    private void RunRows(Pass pass, int begin, int end)
    {
        int n = _x!.Shape[0];
        int f = _channels;
        int count = end - begin;
        var x = _x.Span;
        var xHat = _xHat!.Span;
        var mean = _mean.AsSpan(begin, count);
        var inverseStd = _inverseStd.AsSpan(begin, count);
        switch (pass)
        {
            case Pass.Statistics:
                var variance = _variance.AsSpan(begin, count);
                mean.Clear();
                for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, x.Slice(i * f + begin, count), mean);
                TensorPrimitives.Divide(mean, n, mean);
                variance.Clear();
                for (int i = 0; i < n; i++)
                {
                    var centred = xHat.Slice(i * f + begin, count);
                    TensorPrimitives.Subtract(x.Slice(i * f + begin, count), mean, centred);
                    TensorPrimitives.MultiplyAdd(centred, centred, variance, variance);
                }
                TensorPrimitives.Divide(variance, n, variance);
                for (int c = 0; c < count; c++) inverseStd[c] = 1f / MathF.Sqrt(variance[c] + (float)Epsilon);
                break;

            case Pass.Normalize:
                var y = _y!.Span;
                var gamma = _scale.Value.Slice(begin, count);
                var beta = _shift.Value.Slice(begin, count);
                for (int i = 0; i < n; i++)
                {
                    var row = xHat.Slice(i * f + begin, count);
                    if (!_usesBatchStatistics) TensorPrimitives.Subtract(x.Slice(i * f + begin, count), mean, row);
                    TensorPrimitives.Multiply(row, inverseStd, row);
                    TensorPrimitives.MultiplyAdd(row, gamma, beta, y.Slice(i * f + begin, count));
                }
                break;

            case Pass.ParameterGradients:
                var dy = _dy!.Span;
                var dBeta = _shift.Gradient.Slice(begin, count);
                var dGamma = _scale.Gradient.Slice(begin, count);
                dBeta.Clear();
                dGamma.Clear();
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Add(dBeta, dy.Slice(i * f + begin, count), dBeta);
                    TensorPrimitives.MultiplyAdd(dy.Slice(i * f + begin, count), xHat.Slice(i * f + begin, count), dGamma, dGamma);
                }
                break;

            case Pass.InputGradient:
                var k = _gradientScale.AsSpan(begin, count);
                var meanTerm = _gradientMeanTerm.AsSpan(begin, count);
                var hatTerm = _gradientHatTerm.AsSpan(begin, count);
                for (int c = 0; c < count; c++) (k[c], meanTerm[c], hatTerm[c]) = InputGradientCoefficients(begin + c, n);
                var dys = _dy!.Span;
                var dx = _dx!.Span;
                for (int i = 0; i < n; i++)
                {
                    var target = dx.Slice(i * f + begin, count);
                    TensorPrimitives.MultiplyAdd(dys.Slice(i * f + begin, count), k, meanTerm, target);
                    TensorPrimitives.MultiplyAdd(xHat.Slice(i * f + begin, count), hatTerm, target, target);
                }
                break;
        }
    }

    private enum Pass { Statistics, Normalize, ParameterGradients, InputGradient }

    /// <summary>Runs the current pass over a range of channels or feature blocks; cached so no pass allocates.</summary>
    private sealed class ChannelJob(BatchNorm layer) : IParallelJob
    {
        public void Execute(int begin, int end, int worker) => layer.RunRange(begin, end);
    }
}
