using System;

namespace StyleBridge.Core
{
    /// <summary>
    /// Turns an engine's output tensor, read back to the CPU, into RGBA32 texture bytes. Used where the
    /// engine cannot write a texture itself: Barracuda 3.0's <c>Tensor.ToRenderTexture</c> writes only data
    /// that lives on Compute or came from a texture (Barracuda/Runtime/Core/Tensor.cs), so with a CPU worker
    /// it leaves the target stale.
    /// </summary>
    public static class TensorPixels
    {
        /// <summary>
        /// Writes <paramref name="nhwc"/> (batch 0; channel-last, row 0 = the top of the image, as
        /// Barracuda's texture input flips Y) into <paramref name="rgba32"/> (row 0 = the bottom, as
        /// <c>Texture2D.LoadRawTextureData</c> expects), each value times <paramref name="scale"/>,
        /// rounded and clamped to 0..255. One channel is copied to R, G and B; alpha is 255.
        /// </summary>
        /// <exception cref="ArgumentException">Sizes that do not match.</exception>
        public static void ToRgba32(float[] nhwc, int width, int height, int channels, float scale, byte[] rgba32)
        {
            if (width <= 0 || height <= 0 || channels <= 0)
            {
                throw new ArgumentException("width, height and channels must be > 0, got " + width + "x" + height
                    + "x" + channels);
            }
            if (nhwc == null || nhwc.Length < width * height * channels)
            {
                throw new ArgumentException("the tensor has " + (nhwc == null ? 0 : nhwc.Length) + " values, "
                    + width + "x" + height + "x" + channels + " needs " + width * height * channels, "nhwc");
            }
            if (rgba32 == null || rgba32.Length != width * height * 4)
            {
                throw new ArgumentException("the texture buffer must hold " + width * height * 4 + " bytes", "rgba32");
            }
            for (int y = 0; y < height; y++)
            {
                int src = (height - 1 - y) * width * channels;
                int dst = y * width * 4;
                for (int x = 0; x < width; x++, src += channels, dst += 4)
                {
                    byte r = ToByte(nhwc[src] * scale);
                    rgba32[dst] = r;
                    rgba32[dst + 1] = channels > 1 ? ToByte(nhwc[src + 1] * scale) : r;
                    rgba32[dst + 2] = channels > 2 ? ToByte(nhwc[src + 2] * scale) : r;
                    rgba32[dst + 3] = channels > 3 ? ToByte(nhwc[src + 3] * scale) : (byte)255;
                }
            }
        }

        private static byte ToByte(float value)
        {
            if (!(value > 0f))
            {
                return 0; // also NaN
            }
            float scaled = value * 255f + 0.5f;
            return scaled >= 255f ? (byte)255 : (byte)scaled;
        }
    }
}
