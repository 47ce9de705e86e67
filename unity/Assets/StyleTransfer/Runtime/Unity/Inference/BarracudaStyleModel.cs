using System;
using System.Diagnostics;
using StyleBridge.Core;
using Unity.Barracuda;
using UnityEngine;

namespace StyleBridge.Inference
{
    /// <summary>
    /// One Barracuda worker running one style model. Owns the worker: <see cref="Dispose"/> frees it
    /// (leaked workers and tensors are the most reported Barracuda problem), and every tensor it
    /// creates is disposed in the same call.
    /// </summary>
    internal sealed class BarracudaStyleModel : IStyleModel
    {
        private readonly Stopwatch m_Watch = new Stopwatch();
        private readonly EngineTimingMethod m_TimingMethod;
        private readonly Vector4 m_OutputScale;
        private readonly bool m_OutputOnCompute;
        private IWorker m_Worker;
        private Texture2D m_Upload;
        private byte[] m_UploadBytes;

        /// <param name="resolvedType">The worker's type after Auto and fallbacks (WorkerFactory.ValidateType).</param>
        public BarracudaStyleModel(IWorker worker, ModelIdentity identity, ModelInputInfo info,
            EngineTimingMethod timingMethod, WorkerFactory.Type resolvedType)
        {
            m_Worker = worker;
            Identity = identity;
            Info = info;
            m_TimingMethod = timingMethod;
            float s = InputScaling.ModelToTextureScale(info.InputRange);
            m_OutputScale = new Vector4(s, s, s, 1f);
            m_OutputOnCompute = OutputsOnCompute(resolvedType);
        }

        /// <summary>
        /// Whether the worker's outputs are ComputeTensorData, the one kind (with texture-backed data)
        /// that Barracuda 3.0's <c>Tensor.ToRenderTexture</c> writes (Barracuda/Runtime/Core/Tensor.cs:
        /// it dispatches on <c>tensorOnDevice is TextureAsTensorData</c> / <c>is ComputeTensorData</c> and
        /// otherwise writes nothing). CPU workers (CSharpBurst, CSharp, CSharpRef) hold their outputs in CPU
        /// memory; PixelShader outputs are not counted on either, so they take the read-back path too.
        /// </summary>
        internal static bool OutputsOnCompute(WorkerFactory.Type resolvedType)
        {
            return resolvedType == WorkerFactory.Type.ComputePrecompiled
                || resolvedType == WorkerFactory.Type.Compute
                || resolvedType == WorkerFactory.Type.ComputeRef;
        }

        public ModelIdentity Identity { get; }

        public ModelInputInfo Info { get; }

        public EngineTimingSample Run(Texture source, RenderTexture destination, bool timed)
        {
            if (m_Worker == null)
            {
                throw new ObjectDisposedException("BarracudaStyleModel", "the model was swapped out and disposed");
            }
            using (var input = new Tensor(source, 3))
            {
                if (timed)
                {
                    // Drain the GPU queue (the camera's rendering and the blit) before the stopwatch
                    // starts, so the measured time is this model's alone.
                    input.ToReadOnlyArray();
                    m_Watch.Reset();
                    m_Watch.Start();
                }
                m_Worker.Execute(input);
                Tensor output = m_Worker.PeekOutput(); // owned by the worker: never disposed here
                double ms = 0;
                if (timed)
                {
                    output.ToReadOnlyArray(); // blocks until the inference is done and downloaded
                    m_Watch.Stop();
                    ms = m_Watch.Elapsed.TotalMilliseconds;
                }
                if (m_OutputOnCompute)
                {
                    output.ToRenderTexture(destination, 0, 0, m_OutputScale, Vector4.zero);
                }
                else
                {
                    Upload(output, destination);
                }
                return timed ? new EngineTimingSample(ms, m_TimingMethod) : EngineTimingSample.NotMeasured;
            }
        }

        /// <summary>
        /// The read-back path: the output's values (already on the CPU for a CPU worker) into a linear
        /// Texture2D, then a blit into <paramref name="destination"/>. Slower than ToRenderTexture, but the
        /// only one that shows what a CPU worker computed.
        /// </summary>
        private void Upload(Tensor output, RenderTexture destination)
        {
            int width = output.width, height = output.height;
            if (m_Upload == null || m_Upload.width != width || m_Upload.height != height)
            {
                DestroyUpload();
                m_Upload = new Texture2D(width, height, TextureFormat.RGBA32, false, true);
                m_UploadBytes = new byte[width * height * 4];
            }
            TensorPixels.ToRgba32(output.ToReadOnlyArray(), width, height, output.channels, m_OutputScale.x,
                m_UploadBytes);
            m_Upload.LoadRawTextureData(m_UploadBytes);
            m_Upload.Apply(false);
            Graphics.Blit(m_Upload, destination);
        }

        private void DestroyUpload()
        {
            if (m_Upload != null)
            {
                UnityEngine.Object.Destroy(m_Upload);
                m_Upload = null;
            }
        }

        public void Dispose()
        {
            if (m_Worker != null)
            {
                m_Worker.Dispose();
                m_Worker = null;
            }
            DestroyUpload();
        }
    }
}
