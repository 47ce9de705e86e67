using System;

namespace StyleBridge.Core
{
    /// <summary>Pixel layouts on the wire; the values equal the protocol's <c>PixelFormat</c> numbers.</summary>
    public enum WirePixelFormat
    {
        /// <summary>3 bytes per pixel, R G B (PIXEL_FORMAT_RGB8 = 1).</summary>
        Rgb8 = 1,
        /// <summary>4 bytes per pixel, R G B A (PIXEL_FORMAT_RGBA8 = 2); alpha is ignored by the models.</summary>
        Rgba8 = 2,
    }

    /// <summary>
    /// Frames between Unity's layout and the wire's. Unity textures and their readbacks
    /// (<c>Color32[]</c>, <c>AsyncGPUReadback</c> as <c>TextureFormat.RGBA32</c>) are tight RGBA rows
    /// from the BOTTOM row up; the protocol's <c>Image</c> is rows from the TOP down, <c>row_stride</c>
    /// bytes apart (<c>row_stride &gt;= width * bytes per pixel</c>, padding bytes zero) in RGB8 or RGBA8.
    /// Same results as the Python side (<c>stylebridge.frames</c>: <c>pack_texture</c>,
    /// <c>unpack_pixels</c> + <c>flip_rows</c>); checked by <c>tests/vectors/frame_packing.json</c>.
    /// The methods that take a destination allocate nothing, for use every frame.
    /// </summary>
    public static class FramePacking
    {
        /// <summary>Bytes of one pixel in <paramref name="format"/> (3 or 4).</summary>
        /// <exception cref="ArgumentException">An unknown format.</exception>
        public static int BytesPerPixel(WirePixelFormat format)
        {
            switch (format)
            {
                case WirePixelFormat.Rgb8:
                    return 3;
                case WirePixelFormat.Rgba8:
                    return 4;
                default:
                    throw new ArgumentException("unknown pixel format " + (int)format + "; use Rgb8 (1) or Rgba8 (2)",
                        "format");
            }
        }

        /// <summary>The stride of unpadded rows: width * bytes per pixel.</summary>
        public static int TightStride(int width, WirePixelFormat format)
        {
            CheckSize(width, 1);
            return checked(width * BytesPerPixel(format));
        }

        /// <summary>The tight stride rounded up to a multiple of <paramref name="alignment"/> bytes
        /// (e.g. 4, as graphics APIs pad rows).</summary>
        public static int AlignedStride(int width, WirePixelFormat format, int alignment)
        {
            if (alignment <= 0)
            {
                throw new ArgumentOutOfRangeException("alignment", alignment, "row alignment must be > 0");
            }
            int tight = TightStride(width, format);
            return checked((tight + alignment - 1) / alignment * alignment);
        }

        /// <summary>Bytes of a wire image: rowStride * height, after checking the stride.</summary>
        public static int WireSize(int width, int height, WirePixelFormat format, int rowStride)
        {
            CheckLayout(width, height, format, rowStride);
            return checked(rowStride * height);
        }

        /// <summary>
        /// Packs an RGBA32 frame (Unity's layout: tight rows, bottom row first when
        /// <paramref name="bottomUp"/>) into wire bytes: rows top-down, <paramref name="rowStride"/>
        /// bytes apart, RGB8 (alpha dropped) or RGBA8 (alpha kept as it is), padding bytes zeroed.
        /// </summary>
        /// <param name="rgba32">width * height * 4 bytes.</param>
        /// <param name="width">Frame width in pixels.</param>
        /// <param name="height">Frame height in pixels.</param>
        /// <param name="bottomUp">True for Unity textures (flip to the wire's top-down order).</param>
        /// <param name="format">Wire pixel format.</param>
        /// <param name="rowStride">Wire row stride (at least the tight stride).</param>
        /// <param name="destination">At least rowStride * height bytes; the rest is untouched.</param>
        /// <exception cref="ArgumentException">A size, stride or array length that does not fit.</exception>
        public static void PackRgba32(byte[] rgba32, int width, int height, bool bottomUp, WirePixelFormat format,
            int rowStride, byte[] destination)
        {
            int size = WireSize(width, height, format, rowStride);
            CheckArray(rgba32, "rgba32", checked(width * height * 4), width, height, "RGBA32");
            CheckArray(destination, "destination", size, width, height, "wire");
            int bpp = BytesPerPixel(format);
            int srcRow = width * 4;
            int rowBytes = width * bpp;
            for (int y = 0; y < height; y++)
            {
                int src = (bottomUp ? height - 1 - y : y) * srcRow;
                int dst = y * rowStride;
                if (bpp == 4)
                {
                    Buffer.BlockCopy(rgba32, src, destination, dst, srcRow);
                }
                else
                {
                    for (int x = 0; x < width; x++, src += 4, dst += 3)
                    {
                        destination[dst] = rgba32[src];
                        destination[dst + 1] = rgba32[src + 1];
                        destination[dst + 2] = rgba32[src + 2];
                    }
                }
                if (rowStride > rowBytes)
                {
                    Array.Clear(destination, y * rowStride + rowBytes, rowStride - rowBytes);
                }
            }
        }

        /// <summary>As <see cref="PackRgba32(byte[],int,int,bool,WirePixelFormat,int,byte[])"/>, into a new array.</summary>
        public static byte[] PackRgba32(byte[] rgba32, int width, int height, bool bottomUp, WirePixelFormat format,
            int rowStride)
        {
            var destination = new byte[WireSize(width, height, format, rowStride)];
            PackRgba32(rgba32, width, height, bottomUp, format, rowStride, destination);
            return destination;
        }

        /// <summary>
        /// Unpacks wire bytes (rows top-down, <paramref name="rowStride"/> apart, RGB8 or RGBA8) into
        /// an RGBA32 frame for <c>Texture2D.LoadRawTextureData</c>: tight rows, bottom row first when
        /// <paramref name="bottomUp"/>, alpha 255 (the wire's alpha is ignored, as the models ignore it).
        /// </summary>
        /// <param name="destination">At least width * height * 4 bytes.</param>
        public static void UnpackToRgba32(byte[] wire, int width, int height, WirePixelFormat format, int rowStride,
            bool bottomUp, byte[] destination)
        {
            Unpack(wire, width, height, format, rowStride, bottomUp, destination, 4);
        }

        /// <summary>As <see cref="UnpackToRgba32(byte[],int,int,WirePixelFormat,int,bool,byte[])"/>, into a new array.</summary>
        public static byte[] UnpackToRgba32(byte[] wire, int width, int height, WirePixelFormat format, int rowStride,
            bool bottomUp)
        {
            CheckSize(width, height);
            var destination = new byte[checked(width * height * 4)];
            UnpackToRgba32(wire, width, height, format, rowStride, bottomUp, destination);
            return destination;
        }

        /// <summary>
        /// Unpacks wire bytes into an RGB24 frame (<c>TextureFormat.RGB24</c>): tight rows of 3 bytes
        /// per pixel, bottom row first when <paramref name="bottomUp"/>.
        /// </summary>
        /// <param name="destination">At least width * height * 3 bytes.</param>
        public static void UnpackToRgb24(byte[] wire, int width, int height, WirePixelFormat format, int rowStride,
            bool bottomUp, byte[] destination)
        {
            Unpack(wire, width, height, format, rowStride, bottomUp, destination, 3);
        }

        /// <summary>Reverses the order of <paramref name="height"/> rows of <paramref name="rowBytes"/>
        /// bytes in place (bottom-up &lt;-&gt; top-down).</summary>
        public static void FlipRowsInPlace(byte[] data, int rowBytes, int height)
        {
            if (rowBytes <= 0 || height <= 0)
            {
                throw new ArgumentException("rows of " + rowBytes + " bytes x " + height + " are invalid; both must be > 0");
            }
            if (data == null || data.Length < (long)rowBytes * height)
            {
                throw new ArgumentException("data holds " + (data == null ? 0 : data.Length) + " bytes, less than "
                    + height + " rows of " + rowBytes, "data");
            }
            var temp = new byte[rowBytes];
            for (int top = 0, bottom = height - 1; top < bottom; top++, bottom--)
            {
                Buffer.BlockCopy(data, top * rowBytes, temp, 0, rowBytes);
                Buffer.BlockCopy(data, bottom * rowBytes, data, top * rowBytes, rowBytes);
                Buffer.BlockCopy(temp, 0, data, bottom * rowBytes, rowBytes);
            }
        }

        private static void Unpack(byte[] wire, int width, int height, WirePixelFormat format, int rowStride,
            bool bottomUp, byte[] destination, int outBpp)
        {
            int size = WireSize(width, height, format, rowStride);
            if (wire == null || wire.Length != size)
            {
                throw new ArgumentException("frame has " + (wire == null ? 0 : wire.Length) + " pixel bytes, expected "
                    + size + " (row_stride " + rowStride + " x height " + height + ", " + format + " " + width
                    + "x" + height + ")", "wire");
            }
            CheckArray(destination, "destination", checked(width * height * outBpp), width, height,
                outBpp == 4 ? "RGBA32" : "RGB24");
            int inBpp = BytesPerPixel(format);
            int outRow = width * outBpp;
            for (int y = 0; y < height; y++)
            {
                int src = y * rowStride;
                int dst = (bottomUp ? height - 1 - y : y) * outRow;
                if (inBpp == 3 && outBpp == 3)
                {
                    Buffer.BlockCopy(wire, src, destination, dst, outRow);
                    continue;
                }
                for (int x = 0; x < width; x++, src += inBpp, dst += outBpp)
                {
                    destination[dst] = wire[src];
                    destination[dst + 1] = wire[src + 1];
                    destination[dst + 2] = wire[src + 2];
                    if (outBpp == 4)
                    {
                        destination[dst + 3] = 255;
                    }
                }
            }
        }

        private static void CheckSize(int width, int height)
        {
            if (width <= 0 || height <= 0)
            {
                throw new ArgumentException("frame size " + width + "x" + height
                    + " is invalid; width and height must be > 0");
            }
        }

        private static void CheckLayout(int width, int height, WirePixelFormat format, int rowStride)
        {
            CheckSize(width, height);
            int tight = TightStride(width, format);
            if (rowStride < tight)
            {
                throw new ArgumentException("row stride " + rowStride + " is shorter than one " + format + " row of "
                    + width + " pixels (" + tight + " bytes); use a stride >= width * " + BytesPerPixel(format),
                    "rowStride");
            }
        }

        private static void CheckArray(byte[] array, string name, int needed, int width, int height, string what)
        {
            int length = array == null ? 0 : array.Length;
            if (length < needed)
            {
                throw new ArgumentException(name + " holds " + length + " bytes; a " + width + "x" + height + " "
                    + what + " frame needs " + needed, name);
            }
        }
    }
}
