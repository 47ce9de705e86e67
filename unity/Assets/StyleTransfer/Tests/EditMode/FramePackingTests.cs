using System;
using System.Collections.Generic;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    public class FramePackingTests
    {
        private static WirePixelFormat Format(object c)
        {
            string name = Json.Str(c, "format");
            if (name == "RGB8") return WirePixelFormat.Rgb8;
            if (name == "RGBA8") return WirePixelFormat.Rgba8;
            throw new FormatException("unknown format " + name);
        }

        [Test]
        public void SharedVectors()
        {
            object doc = Vectors.Load("frame_packing.json");
            var failures = new List<string>();
            int checkedCases = 0;
            foreach (object c in Json.Arr(doc, "pack"))
            {
                int w = (int)Json.Int(c, "width"), h = (int)Json.Int(c, "height");
                int stride = (int)Json.Int(c, "row_stride");
                byte[] rgba = Hex.Decode(Json.Str(c, "rgba32_hex"));
                string wire = Hex.Encode(FramePacking.PackRgba32(rgba, w, h, Json.Bool(c, "bottom_up"), Format(c), stride));
                if (wire != Json.Str(c, "wire_hex"))
                {
                    failures.Add("pack " + Json.Str(c, "name") + ": " + wire);
                }
                checkedCases++;
            }
            foreach (object c in Json.Arr(doc, "unpack"))
            {
                int w = (int)Json.Int(c, "width"), h = (int)Json.Int(c, "height");
                int stride = (int)Json.Int(c, "row_stride");
                byte[] wire = Hex.Decode(Json.Str(c, "wire_hex"));
                string name = Json.Str(c, "name");
                if (Hex.Encode(FramePacking.UnpackToRgba32(wire, w, h, Format(c), stride, true))
                    != Json.Str(c, "rgba32_bottom_up_hex"))
                {
                    failures.Add("unpack RGBA32 " + name);
                }
                var rgb = new byte[w * h * 3];
                FramePacking.UnpackToRgb24(wire, w, h, Format(c), stride, true, rgb);
                if (Hex.Encode(rgb) != Json.Str(c, "rgb24_bottom_up_hex"))
                {
                    failures.Add("unpack RGB24 bottom-up " + name);
                }
                FramePacking.UnpackToRgb24(wire, w, h, Format(c), stride, false, rgb);
                if (Hex.Encode(rgb) != Json.Str(c, "rgb24_top_down_hex"))
                {
                    failures.Add("unpack RGB24 top-down " + name);
                }
                checkedCases++;
            }
            foreach (object c in Json.Arr(doc, "errors"))
            {
                string name = Json.Str(c, "name");
                string contains = Json.Str(c, "error_contains");
                try
                {
                    FramePacking.UnpackToRgba32(new byte[Json.Int(c, "byte_count")], (int)Json.Int(c, "width"),
                        (int)Json.Int(c, "height"), Format(c), (int)Json.Int(c, "row_stride"), true);
                    failures.Add("error " + name + ": accepted");
                }
                catch (ArgumentException e)
                {
                    if (e.Message.ToLowerInvariant().IndexOf(contains, StringComparison.Ordinal) < 0)
                    {
                        failures.Add("error " + name + ": message '" + e.Message + "' lacks '" + contains + "'");
                    }
                }
                checkedCases++;
            }
            Assert.IsTrue(checkedCases >= 15, "frame_packing.json looks truncated: " + checkedCases + " cases");
            if (failures.Count > 0)
            {
                Assert.Fail(string.Join("\n", failures.ToArray()));
            }
        }

        [Test]
        public void PackFlipsRowsDropsAlphaAndZeroesPadding()
        {
            // 1x2 RGBA32 bottom-up: bottom pixel (1,2,3,4), top pixel (5,6,7,8).
            byte[] rgba = { 1, 2, 3, 4, 5, 6, 7, 8 };
            var dest = new byte[] { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
            FramePacking.PackRgba32(rgba, 1, 2, true, WirePixelFormat.Rgb8, 4, dest);
            Assert.AreEqual(new byte[] { 5, 6, 7, 0, 1, 2, 3, 0, 9, 9 }, dest,
                "top row first, alpha dropped, padding zeroed, the rest untouched");
            Assert.AreEqual(rgba, FramePacking.PackRgba32(rgba, 1, 2, false, WirePixelFormat.Rgba8, 4));
        }

        [Test]
        public void UnpackSetsOpaqueAlphaAndFlips()
        {
            byte[] wire = { 10, 20, 30, 77, 40, 50, 60, 77 };
            Assert.AreEqual(new byte[] { 40, 50, 60, 255, 10, 20, 30, 255 },
                FramePacking.UnpackToRgba32(wire, 1, 2, WirePixelFormat.Rgba8, 4, true));
        }

        [Test]
        public void FlipRowsInPlaceReversesRows()
        {
            byte[] data = { 1, 1, 2, 2, 3, 3 };
            FramePacking.FlipRowsInPlace(data, 2, 3);
            Assert.AreEqual(new byte[] { 3, 3, 2, 2, 1, 1 }, data);
            Assert.Throws<ArgumentException>(() => FramePacking.FlipRowsInPlace(data, 2, 4));
        }

        [TestCase(5, WirePixelFormat.Rgb8, 4, 16)]
        [TestCase(4, WirePixelFormat.Rgb8, 4, 12)]
        [TestCase(3, WirePixelFormat.Rgba8, 256, 256)]
        [TestCase(7, WirePixelFormat.Rgb8, 1, 21)]
        public void AlignedStrideRoundsUp(int width, WirePixelFormat format, int alignment, int stride)
        {
            Assert.AreEqual(stride, FramePacking.AlignedStride(width, format, alignment));
        }

        [Test]
        public void BadLayoutsAreRefusedWithTheReason()
        {
            var rgba = new byte[16];
            ArgumentException e = Assert.Throws<ArgumentException>(() =>
                FramePacking.PackRgba32(rgba, 2, 2, true, WirePixelFormat.Rgb8, 5));
            Assert.IsTrue(e.Message.Contains("row stride 5 is shorter"), e.Message);
            e = Assert.Throws<ArgumentException>(() =>
                FramePacking.PackRgba32(new byte[15], 2, 2, true, WirePixelFormat.Rgb8, 6));
            Assert.IsTrue(e.Message.Contains("rgba32 holds 15 bytes"), e.Message);
            e = Assert.Throws<ArgumentException>(() =>
                FramePacking.PackRgba32(rgba, 2, 2, true, WirePixelFormat.Rgb8, 6, new byte[11]));
            Assert.IsTrue(e.Message.Contains("destination holds 11 bytes"), e.Message);
            Assert.Throws<ArgumentException>(() => FramePacking.BytesPerPixel((WirePixelFormat)7));
            Assert.Throws<ArgumentException>(() => FramePacking.TightStride(0, WirePixelFormat.Rgb8));
        }
    }
}
