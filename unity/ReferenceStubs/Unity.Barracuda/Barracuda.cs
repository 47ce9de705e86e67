// REFERENCE STUB - not Barracuda. Declares only what the StyleBridge package calls, with the
// signatures of com.unity.barracuda 3.0 (Unity-Technologies/barracuda-release, folder
// Barracuda/Runtime/Core); every body throws. See ../README.md.

using System;
using System.Collections.Generic;
using UnityEngine;

namespace Unity.Barracuda
{
    // Source: Barracuda/Runtime/Core/Barracuda.cs, `public interface IWorker : IDisposable`
    // (the real interface also has PrepareForInput, SetInput, StartManualSchedule, ...; left out).
    public interface IWorker : IDisposable
    {
        IWorker Execute(Tensor input);
        Tensor PeekOutput();
        Tensor PeekOutput(string name);
    }

    // Source: Barracuda/Runtime/Core/Barracuda.cs, `public class WorkerFactory` with the nested
    // `enum Device` and `enum Type` (values copied) and the overload
    // `CreateWorker(Type type, Model model, bool verbose)`.
    public class WorkerFactory
    {
        public enum Device
        {
            GPU = 1 << 8,
            CPU = 1 << 9,
            Auto = 1 << 15,
        }

        public enum Type
        {
            Auto = 0 | Device.Auto,
            ComputePrecompiled = 0 | Device.GPU,
            Compute = 1 | Device.GPU,
            ComputeRef = 2 | Device.GPU,
            PixelShader = 3 | Device.GPU,
            CSharpBurst = 0 | Device.CPU,
            CSharp = 1 | Device.CPU,
            CSharpRef = 2 | Device.CPU,
        }

        public static IWorker CreateWorker(Type type, Model model, bool verbose) { throw new NotImplementedException(); }

        // `public static bool IsType(Type type, Device device)` (throws ArgumentException for Type.Auto).
        public static bool IsType(Type type, Device device) { throw new NotImplementedException(); }

        // `public static Type ValidateType(Type type)`: "returns `type` if valid, otherwise returns fallback
        // type" (BarracudaBackendsFactory.ValidateType: Auto -> ComputePrecompiled, GPU types -> PixelShader
        // without compute shaders).
        public static Type ValidateType(Type type) { throw new NotImplementedException(); }
    }

    // Source: Barracuda/Runtime/Core/Internals/NNModel.cs, `public class NNModel : ScriptableObject`
    // (the imported .onnx asset; its modelData field is left out).
    public class NNModel : ScriptableObject
    {
    }

    // Source: Barracuda/Runtime/Core/ModelLoader.cs, class ModelLoader with
    // `public static Model Load(NNModel model, bool verbose = false, bool skipWeights = false)`.
    public static class ModelLoader
    {
        public static Model Load(NNModel model, bool verbose = false, bool skipWeights = false) { throw new NotImplementedException(); }
    }

    // Source: Barracuda/Runtime/Core/Tensor.cs, `public class Tensor : UniqueResourceId, IDisposable,
    // ITensorStatistics` (base class and statistics interface left out). Constructors
    // `Tensor(Texture srcTexture, int channels = -1, string name = "")` ("LDR textures are remapped
    // to 0..1, HDR textures left unchanged") and `Tensor(int n, int c, float[] srcData, string name = "")`;
    // `float[] ToReadOnlyArray()` (blocking read of GPU data); `public int width / height / channels
    // { get; }` (from its TensorShape);
    // `void ToRenderTexture(RenderTexture target, int batch, int fromChannel, Vector4 scale,
    // Vector4 bias, Texture3D lut = null)`.
    public class Tensor : IDisposable
    {
        public Tensor(Texture srcTexture, int channels = -1, string name = "") { throw new NotImplementedException(); }
        public Tensor(int n, int c, float[] srcData, string name = "") { throw new NotImplementedException(); }
        public float[] ToReadOnlyArray() { throw new NotImplementedException(); }
        public int width { get { throw new NotImplementedException(); } }
        public int height { get { throw new NotImplementedException(); } }
        public int channels { get { throw new NotImplementedException(); } }
        public void ToRenderTexture(RenderTexture target, int batch, int fromChannel, Vector4 scale, Vector4 bias,
            Texture3D lut = null) { throw new NotImplementedException(); }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: Barracuda/Runtime/Core/Model.cs, `public class Model` with `public struct Input
    // { public string name; public Int32[] shape; public int rank; }` and the public fields
    // `List<Input> inputs`, `List<string> outputs`, `List<Layer> layers`.
    public class Model
    {
        public struct Input
        {
            public string name;
            public Int32[] shape;
            public int rank;
        }

        public List<Input> inputs = new List<Input>();
        public List<string> outputs = new List<string>();
        public List<Layer> layers = new List<Layer>();
    }

    // Source: Barracuda/Runtime/Core/Model.cs, `public class Layer` with the public fields
    // `string name` and `string[] inputs` (the other fields are left out).
    public class Layer
    {
        private Layer() { }
        public string name;
        public string[] inputs;
    }

    // Source: Barracuda/Runtime/Core/ModelBuilder.cs, `public class ModelBuilder` with
    // `ModelBuilder(Model model = null)`, `Layer Const(string name, Tensor tensor,
    // int insertionIndex = -1, int rank = -1)` and `Layer Mul(string name, object[] inputs)`.
    public class ModelBuilder
    {
        public ModelBuilder(Model model = null) { throw new NotImplementedException(); }
        public Model model { get { throw new NotImplementedException(); } }
        public Layer Const(string name, Tensor tensor, int insertionIndex = -1, int rank = -1) { throw new NotImplementedException(); }
        public Layer Mul(string name, object[] inputs) { throw new NotImplementedException(); }
    }
}
