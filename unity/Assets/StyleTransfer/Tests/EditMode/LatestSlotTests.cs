using System;
using System.Threading;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    public class LatestSlotTests
    {
        [Test]
        public void NewestItemWinsAndReplacedOnesAreReturned()
        {
            var slot = new LatestSlot<string>();
            Assert.IsNull(slot.Put("a"));
            Assert.AreEqual("a", slot.Put("b"));
            Assert.AreEqual("b", slot.Put("c"));
            string item;
            Assert.IsTrue(slot.TryTake(out item));
            Assert.AreEqual("c", item);
            Assert.IsFalse(slot.TryTake(out item));
            Assert.IsNull(item);
            Assert.AreEqual(2L, slot.Replaced);
            Assert.AreEqual(3L, slot.PutCount);
        }

        [Test]
        public void TakeTimesOutWhenNothingComes()
        {
            var slot = new LatestSlot<string>();
            string item;
            Assert.IsFalse(slot.TryTake(out item, 20));
        }

        [Test]
        public void AWaitingTakerWakesForAPutFromAnotherThread()
        {
            var slot = new LatestSlot<byte[]>();
            var frame = new byte[] { 1, 2, 3 };
            var producer = new Thread(() =>
            {
                Thread.Sleep(20);
                slot.Put(frame);
            });
            producer.Start();
            byte[] got;
            Assert.IsTrue(slot.TryTake(out got, 5000));
            Assert.AreSame(frame, got);
            producer.Join();
        }

        [Test]
        public void CloseWakesAWaiterAndRefusesLaterPuts()
        {
            var slot = new LatestSlot<string>();
            bool result = true;
            var consumer = new Thread(() =>
            {
                string item;
                result = slot.TryTake(out item, Timeout.Infinite);
            });
            consumer.Start();
            Thread.Sleep(20);
            slot.Close();
            Assert.IsTrue(consumer.Join(5000), "the waiter woke up");
            Assert.IsFalse(result);
            Assert.IsTrue(slot.IsClosed);
            Assert.AreEqual("x", slot.Put("x"), "a closed slot hands the item back");
            Assert.Throws<ArgumentNullException>(() => slot.Put(null));
        }
    }

    public class InputScalingTests
    {
        [TestCase(255f, 255f)]
        [TestCase(1f, 1f)]
        [TestCase(0f, 255f)]
        public void TextureScaleFollowsTheModelRange(float range, float scale)
        {
            Assert.AreEqual(scale, InputScaling.TextureToModelScale(range));
            Assert.AreEqual(1f / scale, InputScaling.ModelToTextureScale(range));
        }

        [TestCase(-1f)]
        [TestCase(2f)]
        [TestCase(float.NaN)]
        public void OtherRangesAreRefused(float range)
        {
            ArgumentException e = Assert.Throws<ArgumentException>(() => InputScaling.TextureToModelScale(range));
            Assert.IsTrue(e.Message.Contains("255"), e.Message);
        }

        [Test]
        public void MetadataCarriesItsScale()
        {
            var info = new ModelInputInfo(null, "out", 1f, 0, 0);
            Assert.AreEqual("", info.InputName);
            Assert.AreEqual(1f, info.TextureToModelScale);
        }
    }
}
