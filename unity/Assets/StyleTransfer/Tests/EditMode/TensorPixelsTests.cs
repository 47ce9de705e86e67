using System;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    /// <summary>The CPU-worker read-back path (Barracuda's ToRenderTexture writes nothing for CPU data).</summary>
    public class TensorPixelsTests
    {
        [Test]
        public void RowsAreFlippedChannelsScaledAndClamped()
        {
            // 2x2, 3 channels, row 0 = top: top-left (1, 0, 0.5), top-right (0, 1, 0), bottom row (2, -1, NaN).
            float[] nhwc =
            {
                1f, 0f, 0.5f, 0f, 1f, 0f,
                2f, -1f, float.NaN, 0.25f, 0.25f, 0.25f,
            };
            var rgba = new byte[2 * 2 * 4];
            TensorPixels.ToRgba32(nhwc, 2, 2, 3, 1f, rgba);
            // Texture row 0 is the bottom: the tensor's last row.
            CollectionAssert.AreEqual(new byte[]
            {
                255, 0, 0, 255, 64, 64, 64, 255,
                255, 0, 128, 255, 0, 255, 0, 255,
            }, rgba);
        }

        [Test]
        public void ScaleMapsA0To255ModelBackToTextureRange()
        {
            float[] nhwc = { 255f, 127.5f, 0f };
            var rgba = new byte[4];
            TensorPixels.ToRgba32(nhwc, 1, 1, 3, 1f / 255f, rgba);
            CollectionAssert.AreEqual(new byte[] { 255, 128, 0, 255 }, rgba);
        }

        [Test]
        public void OneChannelIsGreyAndFourKeepAlpha()
        {
            var grey = new byte[4];
            TensorPixels.ToRgba32(new[] { 0.5f }, 1, 1, 1, 1f, grey);
            CollectionAssert.AreEqual(new byte[] { 128, 128, 128, 255 }, grey);
            var rgba = new byte[4];
            TensorPixels.ToRgba32(new[] { 0f, 0f, 0f, 0.5f }, 1, 1, 4, 1f, rgba);
            CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 128 }, rgba);
        }

        [Test]
        public void MismatchedSizesAreNamed()
        {
            var e = Assert.Throws<ArgumentException>(() => TensorPixels.ToRgba32(new float[5], 2, 1, 3, 1f, new byte[8]));
            StringAssert.Contains("needs 6", e.Message);
            e = Assert.Throws<ArgumentException>(() => TensorPixels.ToRgba32(new float[6], 2, 1, 3, 1f, new byte[4]));
            StringAssert.Contains("must hold 8 bytes", e.Message);
        }
    }
}
