//! Synthetic corpus, voice side: the 10 speakers (espeak-ng voice + variant file) and the
//! per-emotion voice-quality overlays written into each variant file.
//!
//! A speaker is a base language voice (addressed by file path, e.g. `gmw/en-US`, because
//! `-v en-us+variant` silently drops the variant) plus a variant file that sets its pitch base and
//! top, formant scaling (vocal-tract length) and voice quality. Emotion adds a voice-quality
//! overlay (roughness for anger, breathiness for sadness, ...) on top of the speaker's own, so the
//! corpus needs one variant file per (speaker, emotion, intensity): at most 10 × 6 × 2 = 120
//! files, written once before synthesis, well under espeak-ng's ~350 loadable voice files.

use super::prosody::{Emotion, Intensity};

/// Upper limits beyond which espeak-ng's pitch turns into noise (see ser-data.md).
const MAX_FLUTTER: u8 = 10;
const MAX_ROUGHNESS: u8 = 3;
const MAX_BREATH: u8 = 6;

/// One synthetic speaker: an espeak-ng base voice and the timbre its variant file gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Speaker {
    /// Identifier used in file names and the manifest, e.g. `S1F` (session 1, female voice).
    pub id: &'static str,
    /// 1-based session the speaker belongs to.
    pub session: u8,
    /// Whether the variant file declares a female voice.
    pub female: bool,
    /// Base voice, addressed by its path under `espeak-ng-data/lang/`.
    pub base_voice: &'static str,
    /// Variant `pitch <base> <top>` in Hz: the speaker's F0 floor and ceiling of its intonation.
    pub pitch_hz: (u16, u16),
    /// (5,) — frequency scaling in percent for formants 1..=5 (a shorter vocal tract raises all).
    pub formant_pct: [u8; 5],
    /// Breathiness 0..=6 (noise added at the formant peaks).
    pub breath: u8,
    /// Roughness 0..=3 (irregular glottal pulses).
    pub roughness: u8,
    /// Flutter 0..=10 (slow random F0 wobble).
    pub flutter: u8,
}

/// (10,) — two speakers per session, one female- and one male-range voice each, with mixed pitch
/// ranges (a low female S5F, a high male S5M) so pitch alone does not identify the sex.
pub const SPEAKERS: [Speaker; 10] = [
    speaker(
        "S1F",
        1,
        true,
        "gmw/en-US",
        (170, 250),
        [108, 110, 110, 112, 112],
        1,
        0,
        2,
    ),
    speaker(
        "S1M",
        1,
        false,
        "gmw/en-GB-x-rp",
        (95, 140),
        [96, 97, 96, 95, 95],
        0,
        1,
        1,
    ),
    speaker(
        "S2F",
        2,
        true,
        "gmw/en",
        (190, 290),
        [112, 115, 112, 115, 115],
        2,
        0,
        1,
    ),
    speaker(
        "S2M",
        2,
        false,
        "gmw/en-US-nyc",
        (82, 125),
        [92, 95, 97, 96, 96],
        0,
        2,
        0,
    ),
    speaker(
        "S3F",
        3,
        true,
        "gmw/en-GB-scotland",
        (155, 230),
        [105, 108, 106, 108, 108],
        3,
        0,
        2,
    ),
    speaker(
        "S3M",
        3,
        false,
        "gmw/en-029",
        (110, 170),
        [100, 100, 102, 100, 100],
        1,
        0,
        4,
    ),
    speaker(
        "S4F",
        4,
        true,
        "gmw/en-GB-x-gbclan",
        (210, 310),
        [115, 118, 115, 118, 118],
        0,
        1,
        1,
    ),
    speaker(
        "S4M",
        4,
        false,
        "gmw/en-GB-x-gbcwmd",
        (90, 150),
        [94, 96, 94, 95, 95],
        2,
        0,
        2,
    ),
    speaker(
        "S5F",
        5,
        true,
        "gmw/en-US",
        (140, 215),
        [104, 106, 107, 106, 106],
        1,
        1,
        0,
    ),
    speaker(
        "S5M",
        5,
        false,
        "gmw/en-GB-x-rp",
        (120, 185),
        [98, 100, 99, 100, 100],
        0,
        0,
        3,
    ),
];

#[allow(clippy::too_many_arguments)]
const fn speaker(
    id: &'static str,
    session: u8,
    female: bool,
    base_voice: &'static str,
    pitch_hz: (u16, u16),
    formant_pct: [u8; 5],
    breath: u8,
    roughness: u8,
    flutter: u8,
) -> Speaker {
    Speaker {
        id,
        session,
        female,
        base_voice,
        pitch_hz,
        formant_pct,
        breath,
        roughness,
        flutter,
    }
}

/// The voice-quality change an emotion makes, at normal intensity (strong doubles the steps).
#[derive(Clone, Copy, Debug, PartialEq)]
struct VoiceQuality {
    /// Added to the speaker's breath (0..=6).
    breath: u8,
    /// Added to the speaker's roughness (0..=3).
    roughness: u8,
    /// Added to the speaker's flutter (0..=10).
    flutter: u8,
    /// Formant 1..=3 frequency change in percent (smiling shortens the tract: positive).
    formant_shift_pct: i8,
    /// Formant amplitude change in percent (tense voice: brighter, positive; lax: negative).
    formant_height_pct: i8,
}

/// Voice-quality directions after Murray & Arnott (1993): anger is harsh and tense, happiness
/// bright (smiled formants), sadness breathy and lax, fear tremulous, disgust rough and dark.
fn voice_quality(emotion: Emotion) -> VoiceQuality {
    let vq = |breath, roughness, flutter, formant_shift_pct, formant_height_pct| VoiceQuality {
        breath,
        roughness,
        flutter,
        formant_shift_pct,
        formant_height_pct,
    };
    match emotion {
        Emotion::Neutral => vq(0, 0, 0, 0, 0),
        Emotion::Angry => vq(0, 1, 0, 0, 10),
        Emotion::Happy => vq(1, 0, 0, 3, 5),
        Emotion::Sad => vq(2, 0, 1, -2, -10),
        Emotion::Fear => vq(1, 0, 3, 2, 0),
        Emotion::Disgust => vq(0, 1, 0, -3, -5),
    }
}

/// File name of the variant for one (speaker, emotion, intensity), e.g. `hrf-S1F-ang-2`.
pub fn variant_name(speaker: &Speaker, emotion: Emotion, intensity: Intensity) -> String {
    format!(
        "hrf-{}-{}-{}",
        speaker.id,
        emotion.code(),
        intensity.level()
    )
}

/// The espeak-ng `-v` argument: base voice path, `+`, variant name.
pub fn voice_argument(speaker: &Speaker, emotion: Emotion, intensity: Intensity) -> String {
    format!(
        "{}+{}",
        speaker.base_voice,
        variant_name(speaker, emotion, intensity)
    )
}

/// Text of the variant file for one (speaker, emotion, intensity).
///
/// Keys follow espeak-ng's voice-file format: `pitch <base> <top>`, `formant N freq% height%
/// width%`, `breath` (one value per formant), `roughness`, `flutter`.
pub fn variant_file(speaker: &Speaker, emotion: Emotion, intensity: Intensity) -> String {
    let vq = voice_quality(emotion);
    let steps = intensity.level();
    let breath = (speaker.breath + vq.breath * steps).min(MAX_BREATH);
    let roughness = (speaker.roughness + vq.roughness * steps).min(MAX_ROUGHNESS);
    let flutter = (speaker.flutter + vq.flutter * steps).min(MAX_FLUTTER);
    let shift = i32::from(vq.formant_shift_pct) * i32::from(steps);
    let height = 100 + i32::from(vq.formant_height_pct) * i32::from(steps);

    let mut text = format!(
        "language variant\nname {}\ngender {}\n\npitch {} {}\n",
        variant_name(speaker, emotion, intensity),
        if speaker.female { "female" } else { "male" },
        speaker.pitch_hz.0,
        speaker.pitch_hz.1,
    );
    text.push_str("formant 0 100 100 100\n");
    for (k, &pct) in speaker.formant_pct.iter().enumerate() {
        // The emotion's formant shift acts on the vowel formants F1..F3 only.
        let freq = i32::from(pct) + if k < 3 { shift } else { 0 };
        text.push_str(&format!("formant {} {freq} {height} 100\n", k + 1));
    }
    if breath > 0 {
        // Noise on formants 1..=8, strongest in the mid formants (as espeak-ng's own f2 variant).
        let lower = breath.saturating_sub(1);
        text.push_str(&format!(
            "breath 0 {lower} {breath} {breath} {breath} {breath} {breath} {lower}\n"
        ));
    }
    text.push_str(&format!("roughness {roughness}\nflutter {flutter}\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn two_speakers_per_session_with_distinct_ids_and_timbres() {
        let ids: HashSet<&str> = SPEAKERS.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), 10);
        for session in 1..=5u8 {
            let in_session: Vec<&Speaker> =
                SPEAKERS.iter().filter(|s| s.session == session).collect();
            assert_eq!(in_session.len(), 2, "session {session}");
            assert!(in_session.iter().any(|s| s.female) && in_session.iter().any(|s| !s.female));
        }
        let timbres: HashSet<(&str, (u16, u16))> = SPEAKERS
            .iter()
            .map(|s| (s.base_voice, s.pitch_hz))
            .collect();
        assert_eq!(timbres.len(), 10, "two speakers share base voice and pitch");
    }

    #[test]
    fn variant_files_stay_within_espeak_safe_limits() {
        for s in &SPEAKERS {
            for emotion in Emotion::ALL_SIX {
                for intensity in [Intensity::Normal, Intensity::Strong] {
                    let text = variant_file(s, emotion, intensity);
                    let value = |key: &str| -> u8 {
                        let line = text.lines().find(|l| l.starts_with(key)).unwrap_or("x 0");
                        line.split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0)
                    };
                    assert!(value("roughness") <= MAX_ROUGHNESS, "{text}");
                    assert!(value("flutter") <= MAX_FLUTTER, "{text}");
                    let breath_max = text
                        .lines()
                        .find(|l| l.starts_with("breath"))
                        .and_then(|l| {
                            l.split_whitespace()
                                .skip(1)
                                .filter_map(|v| v.parse::<u8>().ok())
                                .max()
                        })
                        .unwrap_or(0);
                    assert!(breath_max <= MAX_BREATH, "{text}");
                }
            }
        }
    }

    #[test]
    fn strong_anger_variant_for_s2m_is_rougher_and_tenser() {
        let s2m = SPEAKERS[3];
        let text = variant_file(&s2m, Emotion::Angry, Intensity::Strong);
        // S2M roughness 2 + anger 1 × 2 steps = 4, capped at 3; heights 100 + 10 × 2 = 120.
        assert!(text.contains("roughness 3\n"), "{text}");
        assert!(text.contains("formant 1 92 120 100\n"), "{text}");
        assert!(text.contains("pitch 82 125\n"), "{text}");
        assert_eq!(
            voice_argument(&s2m, Emotion::Angry, Intensity::Strong),
            "gmw/en-US-nyc+hrf-S2M-ang-2"
        );
    }
}
