using System;
using System.Security.Cryptography;

namespace StyleBridge.Core
{
    /// <summary>
    /// Reassembles one pushed file from in-order chunks and hashes it as it goes (SHA-256 via
    /// <see cref="HashAlgorithm.TransformBlock"/>, available in Unity's .NET Standard 2.1 profile
    /// and in Mono), so verification needs no second pass over a multi-megabyte model.
    /// The buffer grows with the data received, never to an announced size alone, so a
    /// lying <c>total_bytes</c> cannot make the client allocate more than was really sent.
    /// </summary>
    public sealed class ChunkAssembler : IDisposable
    {
        /// <summary>Largest file one assembler holds (a .NET byte array's practical limit).</summary>
        public const long MaxBytes = int.MaxValue - 64;

        private const int InitialCapacityLimit = 1 << 20;
        private readonly SHA256 _sha = SHA256.Create();
        private byte[] _buffer;
        private long _length;
        private string _digest;

        /// <summary>Starts an empty file; <paramref name="expectedBytes"/> only sizes the first buffer.</summary>
        public ChunkAssembler(long expectedBytes)
        {
            long capacity = Math.Min(Math.Max(expectedBytes, 0), InitialCapacityLimit);
            _buffer = new byte[capacity];
        }

        /// <summary>Bytes received so far.</summary>
        public long Length
        {
            get { return _length; }
        }

        /// <summary>Appends <paramref name="data"/> at the end and feeds it to the hash.</summary>
        /// <exception cref="InvalidOperationException">After <see cref="FinishDigest"/>.</exception>
        public void Append(byte[] data)
        {
            if (_digest != null)
            {
                throw new InvalidOperationException("the file is complete; start a new ChunkAssembler");
            }
            if (data == null || data.Length == 0)
            {
                return;
            }
            long needed = _length + data.Length;
            if (needed > _buffer.LongLength)
            {
                if (needed > MaxBytes)
                {
                    throw new InvalidOperationException(
                        "a pushed file over " + MaxBytes + " bytes cannot be held in one array");
                }
                long grown = Math.Min(Math.Max(needed, Math.Max(_buffer.LongLength * 2, 4096)), MaxBytes);
                var bigger = new byte[grown];
                Buffer.BlockCopy(_buffer, 0, bigger, 0, (int)_length);
                _buffer = bigger;
            }
            Buffer.BlockCopy(data, 0, _buffer, (int)_length, data.Length);
            _sha.TransformBlock(data, 0, data.Length, null, 0);
            _length = needed;
        }

        /// <summary>Lower-case hex SHA-256 of everything appended; ends the file (idempotent).</summary>
        public string FinishDigest()
        {
            if (_digest == null)
            {
                _sha.TransformFinalBlock(new byte[0], 0, 0);
                _digest = Hex.Encode(_sha.Hash);
            }
            return _digest;
        }

        /// <summary>A copy of the bytes received, exactly <see cref="Length"/> long.</summary>
        public byte[] ToArray()
        {
            var result = new byte[_length];
            Buffer.BlockCopy(_buffer, 0, result, 0, (int)_length);
            return result;
        }

        /// <summary>Releases the hash object and the buffer.</summary>
        public void Dispose()
        {
            _sha.Dispose();
            _buffer = new byte[0];
        }
    }

    /// <summary>Lower-case hexadecimal, the form digests take on the wire.</summary>
    public static class Hex
    {
        private const string Digits = "0123456789abcdef";

        /// <summary>Lower-case hex of <paramref name="bytes"/> ("" for null).</summary>
        public static string Encode(byte[] bytes)
        {
            if (bytes == null)
            {
                return "";
            }
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = Digits[bytes[i] >> 4];
                chars[2 * i + 1] = Digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }

        /// <summary>The bytes of a hex string (either case).</summary>
        /// <exception cref="FormatException">Odd length or a character that is not a hex digit.</exception>
        public static byte[] Decode(string hex)
        {
            hex = hex ?? "";
            if (hex.Length % 2 != 0)
            {
                throw new FormatException("hex string has an odd length (" + hex.Length + ")");
            }
            var bytes = new byte[hex.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)((Nibble(hex[2 * i]) << 4) | Nibble(hex[2 * i + 1]));
            }
            return bytes;
        }

        private static int Nibble(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            throw new FormatException("'" + c + "' is not a hex digit");
        }
    }
}
