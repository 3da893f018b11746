"""The training pipeline: a simulated cohort or a school's outcomes, calibrated LightGBM, one ONNX file, a card."""
