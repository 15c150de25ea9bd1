using System;
using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Devices.NanoFramework
{
    /// <summary>
    /// A model opened on a device: its weights resident in the heap when the resident memory plan fits the heap
    /// left, else streamed from the file layer by layer (<see cref="Interpreter(QnnModel, ByteSource)"/>). Written in
    /// the portable subset (no generics, no floating point) so that tests on .NET run the very code the device runs.
    /// </summary>
    public sealed class DeviceModel
    {
        private readonly QnnModel _model;
        private readonly Interpreter _interpreter;
        private readonly bool _streamed;
        private readonly int[] _scores;

        private DeviceModel(QnnModel model, Interpreter interpreter, bool streamed)
        {
            _model = model;
            _interpreter = interpreter;
            _streamed = streamed;
            _scores = new int[model.ClassCount];
        }

        /// <summary>
        /// Reads the header and layer table of the model in <paramref name="source"/> (every CRC checked), then keeps
        /// the weights resident when loading them with the resident plan (MemoryPlan.LoadBytes) needs at most <paramref name="heapBudgetBytes"/>, else streams
        /// them. An allocation that fails while loading (a fragmented heap) also falls back to streaming.
        /// </summary>
        public static DeviceModel Open(ByteSource source, int heapBudgetBytes)
        {
            QnnModel header = ModelReader.Read(source, false);
            MemoryPlan resident = MemoryPlan.Compute(header, false);
            // LoadBytes: the plan (object and array headers included) plus every buffer the reader drops on the way.
            if (resident.LoadBytes <= heapBudgetBytes)
            {
                try
                {
                    QnnModel full = ModelReader.Read(source);
                    return new DeviceModel(full, new Interpreter(full), false);
                }
                catch (OutOfMemoryException)
                {
                    // What was allocated is garbage now; the streamed plan needs far less.
                }
            }
            return new DeviceModel(header, new Interpreter(header, source), true);
        }

        public QnnModel Model { get { return _model; } }

        /// <summary>True when the weights are read from the file at every inference.</summary>
        public bool Streamed { get { return _streamed; } }

        public MemoryPlan Plan { get { return _interpreter.Plan; } }

        /// <summary>Bytes of one input image: height · width · channels 8-bit pixels.</summary>
        public int ImageBytes
        {
            get { return FormatMath.Mul(FormatMath.Mul(_model.InputHeight, _model.InputWidth), _model.InputChannels); }
        }

        /// <summary>The class scores of the last <see cref="Classify"/>.</summary>
        public int[] Scores { get { return _scores; } }

        /// <summary>Classifies one image of <see cref="ImageBytes"/> pixels; returns the class.</summary>
        public int Classify(byte[] image)
        {
            if (image.Length != ImageBytes)
                throw new ArgumentException("an input image has " + ImageBytes.ToString() + " bytes, this one " + image.Length.ToString());
            return _interpreter.Run(image, _scores);
        }

        /// <summary>The label of <paramref name="classIndex"/>, or its number when the model has no labels.</summary>
        public string ClassName(int classIndex)
        {
            string[]? labels = _model.Labels;
            if (labels != null && classIndex < labels.Length && labels[classIndex].Length > 0) return labels[classIndex];
            return classIndex.ToString();
        }
    }
}
