using System;

namespace StyleBridge.Core
{
    /// <summary>
    /// What a host needs to feed a pushed model (the protocol's <c>ModelMetadata</c>, as plain C#
    /// so that Core does not depend on the generated protocol assembly).
    /// </summary>
    public sealed class ModelInputInfo
    {
        /// <summary>TransformerNet's input range when a model does not say: 0..255.</summary>
        public const float DefaultInputRange = 255f;

        /// <summary>Creates the metadata of one model; null strings become empty.</summary>
        /// <param name="inputName">Graph input name ("" = the model's first input).</param>
        /// <param name="outputName">Graph output name ("" = the model's first output).</param>
        /// <param name="inputRange">255 for 0..255, 1 for 0..1; 0 (not set) means 255.</param>
        /// <param name="recommendedWidth">Width the model was evaluated at (0 = any).</param>
        /// <param name="recommendedHeight">Height the model was evaluated at (0 = any).</param>
        public ModelInputInfo(string inputName, string outputName, float inputRange,
            int recommendedWidth, int recommendedHeight)
        {
            InputName = inputName ?? "";
            OutputName = outputName ?? "";
            InputRange = inputRange;
            RecommendedWidth = recommendedWidth;
            RecommendedHeight = recommendedHeight;
        }

        /// <summary>Graph input name ("" = the model's first input).</summary>
        public string InputName { get; }

        /// <summary>Graph output name ("" = the model's first output).</summary>
        public string OutputName { get; }

        /// <summary>Input range as sent (255, 1, or 0 when the sender did not say).</summary>
        public float InputRange { get; }

        /// <summary>Width the model was evaluated at (0 = any).</summary>
        public int RecommendedWidth { get; }

        /// <summary>Height the model was evaluated at (0 = any).</summary>
        public int RecommendedHeight { get; }

        /// <summary>See <see cref="InputScaling.TextureToModelScale"/> for this model's range.</summary>
        public float TextureToModelScale
        {
            get { return InputScaling.TextureToModelScale(InputRange); }
        }
    }

    /// <summary>
    /// Barracuda and Sentis turn textures into 0..1 tensors, while a TransformerNet exported
    /// without the scale built in expects (and returns) 0..255. These give the factors to apply
    /// so that every model is fed the way its metadata says (same rule as the Python side:
    /// <c>stylebridge.models.metadata.InputRange.scale</c>).
    /// </summary>
    public static class InputScaling
    {
        /// <summary>
        /// What a 0..1 texture value is multiplied by before it enters the model: 255 for a
        /// 0..255 model (also when the range is 0, i.e. not set), 1 for a 0..1 model.
        /// </summary>
        /// <exception cref="ArgumentException">The range is negative, not finite, or neither 1 nor 255.</exception>
        public static float TextureToModelScale(float inputRange)
        {
            if (inputRange == 0f)
            {
                return ModelInputInfo.DefaultInputRange;
            }
            if (inputRange == 255f || inputRange == 1f)
            {
                return inputRange;
            }
            throw new ArgumentException(
                "model input range " + inputRange.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + " is not supported; models must declare 255 (0..255) or 1 (0..1)",
                "inputRange");
        }

        /// <summary>
        /// What a model output value is multiplied by to become a 0..1 texture value
        /// (the inverse of <see cref="TextureToModelScale"/>: the models return the range they take).
        /// </summary>
        public static float ModelToTextureScale(float inputRange)
        {
            return 1f / TextureToModelScale(inputRange);
        }
    }
}
