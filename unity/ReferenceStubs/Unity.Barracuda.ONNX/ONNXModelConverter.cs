// REFERENCE STUB - not Barracuda. The runtime ONNX importer of com.unity.barracuda 3.0, in its own
// assembly `Unity.Barracuda.ONNX` (Barracuda/Runtime/ONNX/Unity.Barracuda.ONNX.asmdef in
// Unity-Technologies/barracuda-release). See ../README.md.

using System;

namespace Unity.Barracuda.ONNX
{
    // Source: Barracuda/Runtime/ONNX/ONNXModelConverter.cs: constructor
    // `ONNXModelConverter(bool optimizeModel, bool treatErrorsAsWarnings = false,
    // bool forceArbitraryBatchSize = true)` and `Model Convert(byte[] buffer)` (also
    // `Convert(string filePath)`, not used).
    public class ONNXModelConverter
    {
        public ONNXModelConverter(bool optimizeModel, bool treatErrorsAsWarnings = false,
            bool forceArbitraryBatchSize = true) { throw new NotImplementedException(); }
        public Model Convert(byte[] buffer) { throw new NotImplementedException(); }
    }
}
