using ILGPU;
using ILGPU.Runtime;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Gpu.Kernels;

namespace Qnn.Trainer.Gpu;

/// <summary>Every kernel of the trainer's ILGPU backend, compiled once per accelerator.</summary>
public sealed class TrainKernels
{
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> Gemm;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<ulong>, int, int> SignPack;
    public readonly Action<Index2D, ArrayView<ulong>, ArrayView<ulong>, ArrayView<float>, int, int, int> SignProduct;
    public readonly Action<Index1D, ArrayView<float>, float> Fill;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> Quantize;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, ulong> QuantizeActivation;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, ulong> QuantizeWeights;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int> QuantizeBackward;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> ScaleShift;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float, float, ulong> Dropout;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs> Adam;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs> AdaMaxShift;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>, int, int> MaxAbs;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>, int> GroupMaxAbs;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, ulong, int> QuantizeGradient;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> ScaleRows;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<ulong>, int, int, int, int, int> PackLevelPlanes;
    public readonly Action<Index2D, ArrayView<ulong>, ArrayView<ulong>, ArrayView<float>, int, int, int, int, int> LevelProduct;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> SampleWeightGradient;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, NormArgs> NormStatistics;
    public readonly Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> NormFinish;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> Normalize;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, NormArgs> NormBackwardSums;
    public readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> NormBackwardFinish;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> NormBackwardDx;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, NormArgs> ShiftStatistics;
    public readonly Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> ShiftFinish;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs> ShiftNormalize;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry, float> Im2Col;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry> Col2Im;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, PoolGeometry> MaxPool;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolGeometry> MaxPoolBackward;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> Loss;

    public TrainKernels(Accelerator a)
    {
        Gemm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(TrainGemm.Kernel);
        SignPack = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ulong>, int, int>(Kernels.SignGemm.PackKernel);
        SignProduct = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<ulong>, ArrayView<ulong>, ArrayView<float>, int, int, int>(Kernels.SignGemm.ProductKernel);
        Fill = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(Elementwise.Fill);
        Quantize = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Elementwise.Quantize);
        QuantizeActivation = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, ulong>(Elementwise.QuantizeActivation);
        QuantizeWeights = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, ulong>(Elementwise.QuantizeWeights);
        QuantizeBackward = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(Elementwise.QuantizeBackward);
        ScaleShift = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(Elementwise.ScaleShift);
        Dropout = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float, ulong>(Elementwise.Dropout);
        Adam = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(Elementwise.Adam);
        AdaMaxShift = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(Elementwise.AdaMaxShift);
        MaxAbs = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, int>(Elementwise.MaxAbs);
        GroupMaxAbs = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int>(Elementwise.GroupMaxAbs);
        QuantizeGradient = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, ulong, int>(Elementwise.QuantizeGradient);
        PackLevelPlanes = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ulong>, int, int, int, int, int>(Elementwise.PackLevelPlanes);
        LevelProduct = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<ulong>, ArrayView<ulong>, ArrayView<float>, int, int, int, int, int>(Elementwise.LevelProduct);
        ScaleRows = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Elementwise.ScaleRows);
        SampleWeightGradient = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(Elementwise.SampleWeightGradient);
        NormStatistics = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, NormArgs>(BatchNormKernels.Statistics);
        NormFinish = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.Finish);
        Normalize = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.Normalize);
        NormBackwardSums = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, NormArgs>(BatchNormKernels.BackwardSums);
        NormBackwardFinish = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.BackwardFinish);
        NormBackwardDx = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.BackwardDx);
        ShiftStatistics = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, NormArgs>(BatchNormKernels.ShiftStatistics);
        ShiftFinish = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.ShiftFinish);
        ShiftNormalize = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs>(BatchNormKernels.ShiftNormalize);
        Im2Col = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry, float>(ConvolutionKernels.Im2Col);
        Col2Im = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry>(ConvolutionKernels.Col2Im);
        MaxPool = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolGeometry>(ConvolutionKernels.MaxPool);
        MaxPoolBackward = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolGeometry>(ConvolutionKernels.MaxPoolBackward);
        Loss = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LossKernels.Loss);
    }
}
