using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// The strides and constants of one layer, computed once with <see cref="FormatMath.Mul"/> so that the inner
    /// loops only add precomputed steps to running offsets: no multiplication at run time.
    /// Offsets are in words of the SPEC 1.2 layout (activations) and 1.3 layout (weights).
    /// </summary>
    public sealed class LayerGeometry
    {
        /// <summary>Input words per plane per pixel, ceil(C / 32).</summary>
        public readonly int InChannelWords;
        /// <summary>Input words per pixel: k planes · CW.</summary>
        public readonly int InPixelWords;
        /// <summary>Input words per row: W · k · CW.</summary>
        public readonly int InRowWords;
        public readonly int OutChannelWords;
        /// <summary>Output words per pixel (0 for scores).</summary>
        public readonly int OutPixelWords;
        /// <summary>Weight words of one plane of one filter: KH · KW · CW.</summary>
        public readonly int WeightPlaneWords;
        /// <summary>Weight words of one kernel row of one plane: KW · CW.</summary>
        public readonly int WeightRowWords;
        /// <summary>Weight words of one filter: m · KH · KW · CW.</summary>
        public readonly int FilterWords;
        /// <summary>Conv output size before the fused pool.</summary>
        public readonly int ConvOutH, ConvOutW;
        /// <summary>Input word offset of the window's top-left pixel for output (0, 0): −PT · row − PL · pixel.</summary>
        public readonly int WindowStart;
        /// <summary>Step of the window origin per output row (SH rows) and per output column (SW pixels).</summary>
        public readonly int WindowRowStep, WindowColumnStep;
        /// <summary>Signed input: KH·KW·C·(2^m−1)·(2^k−1), the accumulator when every bit agrees (SPEC 1.4).</summary>
        public readonly int AgreeAll;
        /// <summary>Fused or standalone pool: window origin steps, in accumulators (fused) or input words (standalone).</summary>
        public readonly int PoolRowStep, PoolColumnStep;
        /// <summary>Rows of the accumulator map (fused pool) or of the input (standalone pool) in its own units.</summary>
        public readonly int PoolRowWords;
        /// <summary>Thresholds per channel, 2^k − 1 (thresholds layers).</summary>
        public readonly int Levels;
        /// <summary>Conv accumulators of one filter before the fused pool (0 without a fused pool).</summary>
        public readonly int AccumulatorMapWords;
        /// <summary>The first layer reads image bytes (<see cref="ImageLayer"/>): bytes per input row (W · C), the byte
        /// offset of the window of output (0, 0) (−PT · row − PL · C), and its steps per output row and column.</summary>
        public readonly int ImageRowBytes, ImageWindowStart, ImageWindowRowStep, ImageWindowColumnStep;

        public LayerGeometry(LayerSpec l)
        {
            InChannelWords = l.InChannelWords;
            InPixelWords = FormatMath.Mul(l.InputBits, InChannelWords);
            InRowWords = FormatMath.Mul(l.InW, InPixelWords);
            OutChannelWords = l.OutChannelWords;
            OutPixelWords = l.Output == OutputKind.Scores ? 0 : FormatMath.Mul(l.OutputBits, OutChannelWords);
            Levels = l.Output == OutputKind.Thresholds ? l.Levels : 0;
            if (l.Kind == LayerKind.MaxPool2D)
            {
                ConvOutH = l.InH;
                ConvOutW = l.InW;
                PoolRowStep = FormatMath.Mul(l.PoolStrideH, InRowWords);
                PoolColumnStep = FormatMath.Mul(l.PoolStrideW, InPixelWords);
                PoolRowWords = InRowWords;
                return;
            }
            WeightRowWords = FormatMath.Mul(l.KernelW, InChannelWords);
            WeightPlaneWords = FormatMath.Mul(FormatMath.Mul(l.KernelH, l.KernelW), InChannelWords);
            FilterWords = FormatMath.Mul(l.WeightBits, WeightPlaneWords);
            ConvOutH = l.ConvOutH;
            ConvOutW = l.ConvOutW;
            WindowStart = -(FormatMath.Mul(l.PadTop, InRowWords) + FormatMath.Mul(l.PadLeft, InPixelWords));
            WindowRowStep = FormatMath.Mul(l.StrideH, InRowWords);
            WindowColumnStep = FormatMath.Mul(l.StrideW, InPixelWords);
            AgreeAll = l.AccumulatorBound;   // odd levels: Σ_ij KH·KW·C << (i + j); log layers sum their weights per filter
            ImageRowBytes = FormatMath.Mul(l.InW, l.InC);
            ImageWindowStart = -(FormatMath.Mul(l.PadTop, ImageRowBytes) + FormatMath.Mul(l.PadLeft, l.InC));
            ImageWindowRowStep = FormatMath.Mul(l.StrideH, ImageRowBytes);
            ImageWindowColumnStep = FormatMath.Mul(l.StrideW, l.InC);
            if (l.PoolH > 0)
            {
                AccumulatorMapWords = FormatMath.Mul(ConvOutH, ConvOutW);
                PoolRowStep = FormatMath.Mul(l.PoolStrideH, ConvOutW);
                PoolColumnStep = l.PoolStrideW;
                PoolRowWords = ConvOutW;
            }
        }
    }
}
