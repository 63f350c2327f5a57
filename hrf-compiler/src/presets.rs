//! The nine preset specs (`specs/*.yaml`), embedded so `hrf inspect conformer_light_hrf` and
//! build tooling work from any directory.

/// `(preset name, YAML text)` for every file in `specs/`.
pub const PRESETS: [(&str, &str); 9] = [
    (
        "conv_transformer_light",
        include_str!("../../specs/conv_transformer_light.yaml"),
    ),
    (
        "conv_transformer_light_hrf",
        include_str!("../../specs/conv_transformer_light_hrf.yaml"),
    ),
    (
        "conv_transformer_large",
        include_str!("../../specs/conv_transformer_large.yaml"),
    ),
    (
        "conformer_light",
        include_str!("../../specs/conformer_light.yaml"),
    ),
    (
        "conformer_light_hrf",
        include_str!("../../specs/conformer_light_hrf.yaml"),
    ),
    (
        "conformer_large",
        include_str!("../../specs/conformer_large.yaml"),
    ),
    (
        "speechformer_light",
        include_str!("../../specs/speechformer_light.yaml"),
    ),
    (
        "speechformer_light_hrf",
        include_str!("../../specs/speechformer_light_hrf.yaml"),
    ),
    (
        "speechformer_large",
        include_str!("../../specs/speechformer_large.yaml"),
    ),
];

/// The YAML text of preset `name` (`conformer_light_hrf`), if there is one.
pub fn preset(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
