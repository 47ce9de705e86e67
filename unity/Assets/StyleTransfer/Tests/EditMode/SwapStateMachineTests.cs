using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    public class SwapStateMachineTests
    {
        private static readonly byte[] Payload = { 1, 2, 3, 4, 5, 6 };

        private static string Sha(byte[] data)
        {
            using (SHA256 sha = SHA256.Create())
            {
                return Hex.Encode(sha.ComputeHash(data));
            }
        }

        private static ModelChunk Chunk(string push, string model, byte[] payload, int offset, int count, bool last,
            string digest = null, long total = -1, ModelInputInfo metadata = null)
        {
            var data = new byte[count];
            Array.Copy(payload, offset, data, 0, count);
            return new ModelChunk(push, new ModelIdentity(model, 1, digest ?? Sha(payload)),
                total < 0 ? payload.Length : total, offset, data, last, metadata);
        }

        [Test]
        public void SharedVectors()
        {
            object doc = Vectors.Load("swap_state.json");
            Assert.AreEqual(1L, Json.Int(doc, "version"), "swap_state.json version");
            List<object> cases = Json.Arr(doc, "cases");
            Assert.IsTrue(cases.Count >= 10, "expected the shared swap cases, found " + cases.Count);
            var failures = new List<string>();
            foreach (object c in cases)
            {
                string name = Json.Str(c, "name");
                try
                {
                    RunCase(c);
                }
                catch (Exception e)
                {
                    failures.Add(name + ": " + e.Message);
                }
            }
            if (failures.Count > 0)
            {
                Assert.Fail(failures.Count + " of " + cases.Count + " swap cases failed:\n"
                    + string.Join("\n", failures.ToArray()));
            }
        }

        private static void RunCase(object c)
        {
            var machine = new SwapStateMachine(new ModelIdentity(Json.Str(c, "initial_model"), 0, ""),
                Json.Int(c, "max_model_bytes"));
            var states = new List<string>();
            var frameModels = new Dictionary<string, string>();
            var acks = new List<SwapAck>();
            foreach (object e in Json.Arr(c, "events"))
            {
                string type = Json.Str(e, "type");
                switch (type)
                {
                    case "chunk":
                        var chunk = new ModelChunk(Json.Str(e, "push_id"),
                            new ModelIdentity(Json.Str(e, "model_id"), (uint)Json.Int(e, "version"),
                                Json.Str(e, "sha256")),
                            Json.Int(e, "total_bytes"), Json.Int(e, "offset"), Hex.Decode(Json.Str(e, "data_hex")),
                            Json.Bool(e, "last"));
                        acks.AddRange(machine.OnChunk(chunk));
                        break;
                    case "load_ok":
                        machine.OnLoadSucceeded(Json.Num(e, "ms"));
                        break;
                    case "warm_ok":
                        machine.OnWarmSucceeded(Json.Num(e, "ms"));
                        break;
                    case "load_fail":
                        AddIfAny(acks, machine.OnLoadFailed(Json.Str(e, "error")));
                        break;
                    case "warm_fail":
                        AddIfAny(acks, machine.OnWarmFailed(Json.Str(e, "error")));
                        break;
                    case "frame":
                        long sequence = Json.Int(e, "sequence");
                        ModelIdentity before = machine.ModelForNextFrame;
                        SwapFrameResult result = machine.OnFrame((ulong)sequence, Json.Num(e, "ms"));
                        if (!result.Model.Equals(before))
                        {
                            throw new Exception("frame " + sequence + ": ModelForNextFrame said " + before
                                + " but OnFrame ran " + result.Model);
                        }
                        frameModels[sequence.ToString(CultureInfo.InvariantCulture)] = result.Model.ModelId;
                        AddIfAny(acks, result.Ack);
                        break;
                    default:
                        throw new Exception("unknown event type " + type);
                }
                states.Add(machine.State.ToString());
            }
            object expect = Json.Get(c, "expect");
            var expectedStates = new List<string>();
            foreach (object s in Json.Arr(expect, "states"))
            {
                expectedStates.Add((string)s);
            }
            string got = string.Join(",", states.ToArray());
            string want = string.Join(",", expectedStates.ToArray());
            if (got != want)
            {
                throw new Exception("states [" + got + "], expected [" + want + "]");
            }
            foreach (KeyValuePair<string, object> pair in Json.Obj(expect, "frame_models"))
            {
                string ran;
                if (!frameModels.TryGetValue(pair.Key, out ran) || ran != (string)pair.Value)
                {
                    throw new Exception("frame " + pair.Key + " ran '" + ran + "', expected '" + pair.Value + "'");
                }
            }
            if (frameModels.Count != Json.Obj(expect, "frame_models").Count)
            {
                throw new Exception("ran " + frameModels.Count + " frames, expected "
                    + Json.Obj(expect, "frame_models").Count);
            }
            List<object> expectedAcks = Json.Arr(expect, "acks");
            if (acks.Count != expectedAcks.Count)
            {
                var seen = new List<string>();
                foreach (SwapAck a in acks)
                {
                    seen.Add(a.ToString());
                }
                throw new Exception(acks.Count + " acks [" + string.Join("; ", seen.ToArray()) + "], expected "
                    + expectedAcks.Count);
            }
            for (int i = 0; i < acks.Count; i++)
            {
                CheckAck(i, acks[i], expectedAcks[i]);
            }
            string active = Json.Str(expect, "active_model");
            if (machine.ActiveModel.ModelId != active)
            {
                throw new Exception("active model " + machine.ActiveModel + ", expected '" + active + "'");
            }
        }

        private static void AddIfAny(List<SwapAck> acks, SwapAck ack)
        {
            if (ack != null)
            {
                acks.Add(ack);
            }
        }

        private static void CheckAck(int index, SwapAck ack, object expected)
        {
            string where = "ack " + index + " (" + ack + ")";
            if (ack.PushId != Json.Str(expected, "push_id"))
            {
                throw new Exception(where + ": push id, expected " + Json.Str(expected, "push_id"));
            }
            if (Json.Has(expected, "model_id") && ack.Model.ModelId != Json.Str(expected, "model_id"))
            {
                throw new Exception(where + ": model, expected " + Json.Str(expected, "model_id"));
            }
            string status = Json.Str(expected, "status");
            string gotStatus = ack.Status == SwapAckStatus.Active ? "ACTIVE" : "ROLLED_BACK";
            if (gotStatus != status)
            {
                throw new Exception(where + ": status " + gotStatus + ", expected " + status);
            }
            if (Json.Has(expected, "first_sequence") && ack.FirstSequence != (ulong)Json.Int(expected, "first_sequence"))
            {
                throw new Exception(where + ": first_sequence " + ack.FirstSequence);
            }
            CheckMs(where, "import_ms", ack.ImportMs, expected);
            CheckMs(where, "warmup_ms", ack.WarmupMs, expected);
            CheckMs(where, "first_inference_ms", ack.FirstInferenceMs, expected);
            string contains = Json.Has(expected, "error_contains") ? Json.Str(expected, "error_contains") : "";
            if (status == "ROLLED_BACK" && ack.Error.ToLowerInvariant().IndexOf(contains, StringComparison.Ordinal) < 0)
            {
                throw new Exception(where + ": error does not contain '" + contains + "'");
            }
            if (status == "ACTIVE" && ack.Error.Length != 0)
            {
                throw new Exception(where + ": an ACTIVE ack carries an error");
            }
        }

        private static void CheckMs(string where, string key, double got, object expected)
        {
            if (Json.Has(expected, key) && Math.Abs(got - Json.Num(expected, key)) > 1e-9)
            {
                throw new Exception(where + ": " + key + " " + got + ", expected " + Json.Num(expected, key));
            }
        }

        [Test]
        public void LoadingExposesTheVerifiedBytesAndMetadataUntilImported()
        {
            var metadata = new ModelInputInfo("input", "output", 1f, 640, 360);
            var machine = new SwapStateMachine(new ModelIdentity("mosaic", 1, ""));
            Assert.AreEqual(0, machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 2, false, metadata: metadata)).Count);
            Assert.AreEqual(SwapState.Receiving, machine.State);
            Assert.AreEqual(2L, machine.ReceivedBytes);
            Assert.AreEqual(6L, machine.TotalBytes);
            Assert.IsNull(machine.PendingBytes);
            machine.OnChunk(Chunk("p1", "tiny", Payload, 2, 4, true));
            Assert.AreEqual(SwapState.Loading, machine.State);
            Assert.AreEqual(Payload, machine.PendingBytes);
            Assert.AreSame(metadata, machine.PendingMetadata);
            Assert.AreEqual("p1", machine.PendingPushId);
            Assert.IsTrue(machine.PushInProgress);
            machine.OnLoadSucceeded(5);
            Assert.IsNull(machine.PendingBytes, "bytes are released once imported");
            machine.OnWarmSucceeded(2);
            Assert.AreEqual("tiny", machine.ModelForNextFrame.ModelId);
            Assert.AreEqual("mosaic", machine.ActiveModel.ModelId);
            SwapFrameResult result = machine.OnFrame(42, 7.5);
            Assert.IsTrue(result.Swapped);
            Assert.AreEqual(42UL, result.Ack.FirstSequence);
            Assert.AreSame(result.Ack, machine.LastAck);
            Assert.AreSame(metadata, machine.ActiveMetadata);
            Assert.AreEqual(Sha(Payload), machine.ActiveModel.Sha256);
            Assert.IsFalse(machine.PushInProgress);
            Assert.IsFalse(machine.OnFrame(43, 7.0).Swapped);
        }

        [Test]
        public void StaleResultsOfASupersededPushAreIgnoredWhenTheHostNamesThePush()
        {
            var machine = new SwapStateMachine(ModelIdentity.None);
            machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 6, true));
            machine.OnChunk(Chunk("p2", "other", Payload, 0, 6, true));
            Assert.AreEqual(SwapState.Loading, machine.State);
            Assert.AreEqual("p2", machine.PendingPushId);
            machine.OnLoadSucceeded(1, "p1");
            Assert.IsNull(machine.OnLoadFailed("late failure of p1", "p1"));
            Assert.AreEqual(SwapState.Loading, machine.State, "p1's import result must not move p2");
            machine.OnLoadSucceeded(2, "p2");
            Assert.AreEqual(SwapState.Warming, machine.State);
            machine.OnWarmSucceeded(1, "p1");
            Assert.IsNull(machine.OnWarmFailed("stale", "p1"));
            Assert.AreEqual(SwapState.Warming, machine.State);
            SwapAck ack = machine.OnWarmFailed("shader compile failed", "p2");
            Assert.AreEqual("p2", ack.PushId);
            Assert.AreEqual(2.0, ack.ImportMs);
            Assert.AreEqual(SwapState.RolledBack, machine.State);
        }

        [Test]
        public void SupersedingWithATooLargePushGivesTwoAcksInOrder()
        {
            var machine = new SwapStateMachine(ModelIdentity.None, 6);
            machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 3, false));
            byte[] big = new byte[10];
            IReadOnlyList<SwapAck> acks = machine.OnChunk(Chunk("p2", "big", big, 0, 5, false));
            Assert.AreEqual(2, acks.Count);
            Assert.AreEqual("p1", acks[0].PushId);
            Assert.IsTrue(acks[0].Error.Contains("superseded"), acks[0].Error);
            Assert.AreEqual("p2", acks[1].PushId);
            Assert.IsTrue(acks[1].Error.Contains("too large"), acks[1].Error);
            Assert.AreEqual(SwapState.RolledBack, machine.State);
            Assert.IsTrue(machine.ActiveModel.IsNone);
        }

        [Test]
        public void StrayChunksOutsideAPushAreIgnored()
        {
            var machine = new SwapStateMachine(null);
            Assert.AreEqual(0, machine.OnChunk(Chunk("p9", "tiny", Payload, 3, 3, true)).Count);
            Assert.AreEqual(SwapState.Idle, machine.State);
            machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 6, true));
            Assert.AreEqual(SwapState.Loading, machine.State);
            Assert.AreEqual(0, machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 6, true)).Count,
                "a duplicate of the pending push is not a new push");
            Assert.AreEqual(0, machine.OnChunk(Chunk("p7", "tiny", Payload, 3, 3, true)).Count,
                "a chunk of another push that does not start at 0 cannot supersede");
            Assert.AreEqual(SwapState.Loading, machine.State);
        }

        [Test]
        public void DigestComparisonAcceptsUpperCaseHex()
        {
            var machine = new SwapStateMachine(null);
            machine.OnChunk(Chunk("p1", "tiny", Payload, 0, 6, true, Sha(Payload).ToUpperInvariant()));
            Assert.AreEqual(SwapState.Loading, machine.State);
        }

        [Test]
        public void EmptyFileWithTheEmptyDigestVerifies()
        {
            var machine = new SwapStateMachine(null);
            machine.OnChunk(new ModelChunk("p1", new ModelIdentity("e", 1,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 0, 0, null, true));
            Assert.AreEqual(SwapState.Loading, machine.State);
            Assert.AreEqual(0, machine.PendingBytes.Length);
        }

        [Test]
        public void ABadChunkIsRejectedByTheConstructor()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                new ModelChunk("p", ModelIdentity.None, -1, 0, null, false));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                new ModelChunk("p", ModelIdentity.None, 1, -1, null, false));
            Assert.Throws<ArgumentNullException>(() => new SwapStateMachine(null).OnChunk(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => new SwapStateMachine(null, -1));
        }

        [Test]
        public void ManyChunksReassembleAMultiMegabyteFile()
        {
            var payload = new byte[3 * 1024 * 1024 + 17];
            new Random(7).NextBytes(payload);
            string digest = Sha(payload);
            var machine = new SwapStateMachine(null, payload.Length);
            const int size = 256 * 1024;
            for (int offset = 0; offset < payload.Length; offset += size)
            {
                int count = Math.Min(size, payload.Length - offset);
                Assert.AreEqual(0, machine.OnChunk(Chunk("p1", "big", payload, offset, count,
                    offset + count == payload.Length, digest)).Count);
            }
            Assert.AreEqual(SwapState.Loading, machine.State);
            Assert.AreEqual(payload, machine.PendingBytes);
        }

        [Test]
        public void ModelIdentityComparesByValue()
        {
            Assert.AreEqual(new ModelIdentity("a", 2, "AB"), new ModelIdentity("a", 2, "ab"));
            Assert.IsFalse(new ModelIdentity("a", 2, "ab").Equals(new ModelIdentity("a", 3, "ab")));
            Assert.AreEqual("a v2", new ModelIdentity("a", 2, "").ToString());
            Assert.AreEqual("(none)", ModelIdentity.None.ToString());
        }
    }

    public class ChunkAssemblerTests
    {
        [TestCase("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
        [TestCase("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
        [TestCase("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
        public void IncrementalDigestMatchesTheKnownAnswer(string text, string digest)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(text);
            using (var assembler = new ChunkAssembler(bytes.Length))
            {
                for (int i = 0; i < bytes.Length; i += 5)
                {
                    var part = new byte[Math.Min(5, bytes.Length - i)];
                    Array.Copy(bytes, i, part, 0, part.Length);
                    assembler.Append(part);
                }
                Assert.AreEqual(digest, assembler.FinishDigest());
                Assert.AreEqual(digest, assembler.FinishDigest(), "idempotent");
                Assert.AreEqual(bytes, assembler.ToArray());
                Assert.Throws<InvalidOperationException>(() => assembler.Append(new byte[] { 1 }));
            }
        }

        [Test]
        public void GrowsPastAnUnderstatedSize()
        {
            using (var assembler = new ChunkAssembler(1))
            {
                var data = new byte[10000];
                new Random(1).NextBytes(data);
                assembler.Append(data);
                assembler.Append(data);
                Assert.AreEqual(20000L, assembler.Length);
                byte[] all = assembler.ToArray();
                Assert.AreEqual(data[9999], all[19999]);
            }
        }

        [Test]
        public void HexRoundTripsAndRejectsGarbage()
        {
            Assert.AreEqual("00ff10ab", Hex.Encode(new byte[] { 0, 255, 16, 171 }));
            Assert.AreEqual(new byte[] { 0, 255, 16, 171 }, Hex.Decode("00FF10ab"));
            Assert.AreEqual("", Hex.Encode(null));
            Assert.Throws<FormatException>(() => Hex.Decode("abc"));
            Assert.Throws<FormatException>(() => Hex.Decode("zz"));
        }
    }
}
