"""The image-classification application on top of the mcuq core: RepVGG models
(train-time branches and the deploy-time fused form), image data that needs no
download (scikit-learn's digits upscaled, and procedurally drawn shapes), loaders for a
user's own images, and top-1 evaluation of the float and quantized models."""
