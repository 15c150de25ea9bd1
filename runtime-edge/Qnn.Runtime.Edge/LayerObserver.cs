using System;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Sees every layer's output during <see cref="Interpreter.Run"/>: the packed words of SPEC 1.2 for threshold and
    /// pool layers, and for the last layer the class scores, each int cast to uint (wordCount = class count).
    /// Used to compare runtimes layer by layer; the words belong to the interpreter and are overwritten by the next layer.
    /// </summary>
    public abstract class LayerObserver
    {
        public abstract void OnLayer(int layer, uint[] words, int wordCount);
    }
}
