using UnityEngine;

namespace StyleBridge.Inference
{
    /// <summary>The render textures an engine reads its input from and writes its output to.</summary>
    internal static class StyleTextures
    {
        /// <summary>
        /// An ARGB32 target with <c>RenderTextureReadWrite.Linear</c>. The default read/write mode is sRGB in
        /// a Linear-space project, and an sRGB texture cannot be bound for random write on D3D11, Metal or
        /// Vulkan, which Barracuda's compute <c>ToRenderTexture</c> needs. Linear also means no conversion
        /// on write or read: a read-back of the output returns the model's own values, as in Python.
        /// </summary>
        public static RenderTexture Create(int width, int height, bool randomWrite)
        {
            var texture = new RenderTexture(System.Math.Max(1, width), System.Math.Max(1, height), 0, RenderTextureFormat.ARGB32,
                RenderTextureReadWrite.Linear);
            texture.enableRandomWrite = randomWrite;
            texture.Create();
            return texture;
        }
    }
}
