// REFERENCE STUB - not Sentis. The members the optional Sentis backend
// (Runtime/Unity/Inference/SentisEngine.cs, compiled with STYLEBRIDGE_SENTIS) calls, with the
// signatures of com.unity.sentis 1.5 (https://docs.unity3d.com/Packages/com.unity.sentis@1.5/api/);
// where only the 1.3 page was found the comment says so. Every body throws. See ../README.md.

using System;
using UnityEngine;

namespace Unity.Sentis
{
    // Source: api/Unity.Sentis.ModelAsset.html (`public class ModelAsset : ScriptableObject`, the
    // imported .onnx / .sentis asset).
    public class ModelAsset : ScriptableObject
    {
    }

    // Source: api/Unity.Sentis.Model.html (`public class Model`; members left out).
    public class Model
    {
    }

    // Source: api/Unity.Sentis.ModelLoader.html (`public static Model Load(ModelAsset modelAsset)`; the 1.5
    // manual/create-an-engine.html calls `ModelLoader.Load(modelAsset)` then
    // `WorkerFactory.CreateWorker(BackendType.GPUCompute, runtimeModel)`).
    public static class ModelLoader
    {
        public static Model Load(ModelAsset modelAsset) { throw new NotImplementedException(); }
    }

    // Source: api/Unity.Sentis.BackendType.html (GPUCompute, GPUPixel, CPU; numeric values not used).
    public enum BackendType
    {
        GPUCompute,
        GPUPixel,
        CPU,
    }

    // Source: api/Unity.Sentis.WorkerFactory.html (1.5): `public static IWorker CreateWorker(BackendType
    // backendType, Model model)`.
    public class WorkerFactory
    {
        public static IWorker CreateWorker(BackendType backendType, Model model) { throw new NotImplementedException(); }
    }

    // Source: api/Unity.Sentis.IWorker.html (1.5): `IWorker Execute(Tensor input)`, `Tensor PeekOutput()`;
    // manual/use-model-output.html (1.5) uses `worker.Execute(inputTensor).PeekOutput() as TensorFloat`.
    public interface IWorker : IDisposable
    {
        IWorker Execute(Tensor input);
        Tensor PeekOutput();
    }

    // Source: api/Unity.Sentis.Tensor.html (abstract base of TensorFloat / TensorInt; IDisposable).
    public abstract class Tensor : IDisposable
    {
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: api/Unity.Sentis.TensorFloat.html (1.5): `CompleteOperationsAndDownload()` makes the data
    // readable, blocking until pending GPU work is done.
    public class TensorFloat : Tensor
    {
        private TensorFloat() { }
        public void CompleteOperationsAndDownload() { throw new NotImplementedException(); }
    }

    // Source: api/Unity.Sentis.TextureTransform.html (`public struct TextureTransform`; members left out).
    public struct TextureTransform
    {
    }

    // Source: api/Unity.Sentis.TextureConverter.ToTensor.html (page of 1.3; the 1.5 manual uses the same
    // call): `public static TensorFloat ToTensor(Texture texture, int width = -1, int height = -1,
    // int channels = -1)`; api/Unity.Sentis.TextureConverter.RenderToTexture.html (1.3):
    // `public static void RenderToTexture(TensorFloat tensor, RenderTexture renderTexture,
    // TextureTransform transform = default)`.
    public static class TextureConverter
    {
        public static TensorFloat ToTensor(Texture texture, int width = -1, int height = -1, int channels = -1) { throw new NotImplementedException(); }
        public static void RenderToTexture(TensorFloat tensor, RenderTexture renderTexture,
            TextureTransform transform = default(TextureTransform)) { throw new NotImplementedException(); }
    }
}
