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
        private IWorker m_Worker;

        public BarracudaStyleModel(IWorker worker, ModelIdentity identity, ModelInputInfo info,
            EngineTimingMethod timingMethod)
        {
            m_Worker = worker;
            Identity = identity;
            Info = info;
            m_TimingMethod = timingMethod;
            float s = InputScaling.ModelToTextureScale(info.InputRange);
            m_OutputScale = new Vector4(s, s, s, 1f);
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
                output.ToRenderTexture(destination, 0, 0, m_OutputScale, Vector4.zero);
                return timed ? new EngineTimingSample(ms, m_TimingMethod) : EngineTimingSample.NotMeasured;
            }
        }

        public void Dispose()
        {
            if (m_Worker != null)
            {
                m_Worker.Dispose();
                m_Worker = null;
            }
        }
    }
}
