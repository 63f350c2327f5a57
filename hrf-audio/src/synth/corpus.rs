//! Synthetic corpus, generation: the clip plan (session × speaker × sentence × emotion ×
//! intensity), parallel synthesis to 16 kHz WAV, the manifest, the record file and checksums.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::error::SynthError;
use super::espeak::{self, PrivateData};
use super::prosody::{ClipRng, Emotion, Intensity, clip_prosody, ssml};
use super::sentences::{SENTENCES, SENTENCES_PER_SESSION};
use super::voices::{SPEAKERS, Speaker, variant_file, variant_name, voice_argument};
use super::{CHECKSUM_FILE, INFO_FILE, MANIFEST_FILE, SynthConfig, checksums};
use crate::resample::resample;
use crate::wav::{TARGET_SAMPLE_RATE, write_wav_16k};

/// Where the private espeak-ng data lives during generation (removed afterwards).
const ESPEAK_WORK_DIR: &str = ".espeak-ng-work";

/// One clip to synthesise.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipPlan {
    /// File stem and clip id, e.g. `S1F_t007_ang_strong`.
    pub id: String,
    /// Path relative to the corpus directory, `/`-separated: `wav/S1F/S1F_t007_ang_strong.wav`.
    pub rel_path: String,
    pub speaker: Speaker,
    /// 1-based sentence number over the whole corpus (`t001`..`t100`).
    pub sentence_number: usize,
    pub text: &'static str,
    pub emotion: Emotion,
    pub intensity: Intensity,
    /// Unique per clip: keys the clip's random prosody variation.
    pub key: u64,
}

/// The emotions a config asks for.
pub fn emotions(config: &SynthConfig) -> &'static [Emotion] {
    if config.six_classes {
        &Emotion::ALL_SIX
    } else {
        &Emotion::FOUR
    }
}

/// Every clip of the corpus, in manifest order (session, speaker, sentence, emotion, intensity).
pub fn plan(config: &SynthConfig) -> Vec<ClipPlan> {
    let mut clips = Vec::new();
    for speaker in SPEAKERS {
        let session = usize::from(speaker.session) - 1;
        for (s, text) in SENTENCES[session]
            .iter()
            .take(config.sentences_per_session)
            .enumerate()
        {
            let sentence_number = session * SENTENCES_PER_SESSION + s + 1;
            for &emotion in emotions(config) {
                for intensity in Intensity::BOTH {
                    let id = format!(
                        "{}_t{sentence_number:03}_{}_{}",
                        speaker.id,
                        emotion.code(),
                        intensity.name()
                    );
                    // Key from the clip's identity, not its position, so `--six` or fewer
                    // sentences leave the other clips' variation unchanged.
                    let speaker_index = SPEAKERS
                        .iter()
                        .position(|x| x.id == speaker.id)
                        .unwrap_or(0);
                    let key = ((speaker_index as u64 * 1000 + sentence_number as u64) * 16
                        + emotion as u64)
                        * 4
                        + u64::from(intensity.level());
                    clips.push(ClipPlan {
                        rel_path: format!("wav/{}/{id}.wav", speaker.id),
                        id,
                        speaker,
                        sentence_number,
                        text,
                        emotion,
                        intensity,
                        key,
                    });
                }
            }
        }
    }
    clips
}

/// The manifest in the generic format: header `path,label,speaker,session`, one row per clip,
/// paths relative to the manifest.
pub fn manifest_text(clips: &[ClipPlan]) -> String {
    let mut text = String::from("path,label,speaker,session\n");
    for clip in clips {
        text.push_str(&format!(
            "{},{},{},{}\n",
            clip.rel_path,
            clip.emotion.label(),
            clip.speaker.id,
            clip.speaker.session
        ));
    }
    text
}

/// What the record file `corpus.json` stores: enough to tell whether an existing corpus matches
/// a config, and which tool version made it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusInfo {
    pub generator: String,
    pub seed: u64,
    pub classes: Vec<String>,
    pub sessions: usize,
    pub speakers: usize,
    pub sentences_per_session: usize,
    pub clips: usize,
    pub sample_rate: u32,
    pub espeak_ng_version: String,
}

/// Revision of the synthesis recipe: bumped whenever the same seed gives different audio, so a
/// corpus made by an older recipe is regenerated instead of reused.
/// 2: espeak-ng amplitude lowered per clip until the peak keeps 0.9 of full scale.
const RECIPE_REVISION: u32 = 2;

/// `hrf synth <crate version> recipe <revision>`, recorded in `corpus.json`.
fn generator_name() -> String {
    format!(
        "hrf synth {} recipe {RECIPE_REVISION}",
        env!("CARGO_PKG_VERSION")
    )
}

impl CorpusInfo {
    /// Whether a corpus recorded as `self` is what `config` asks for, made by this recipe.
    pub fn matches(&self, config: &SynthConfig) -> bool {
        let classes: Vec<&str> = emotions(config).iter().map(|e| e.label()).collect();
        self.generator == generator_name()
            && self.seed == config.seed
            && self.sentences_per_session == config.sentences_per_session
            && self.classes == classes
            && self.clips == plan(config).len()
    }
}

/// The result of [`super::generate`].
#[derive(Clone, Debug, PartialEq)]
pub struct SynthSummary {
    pub out_dir: PathBuf,
    pub clips: usize,
    /// Whether an existing, verified corpus was kept instead of regenerating.
    pub reused: bool,
    /// Wall-clock seconds spent (synthesis, or verification when reused).
    pub seconds: f64,
    pub espeak_ng_version: String,
    /// Total audio duration in seconds.
    pub audio_seconds: f64,
}

pub(super) fn generate_corpus(config: &SynthConfig) -> Result<SynthSummary, SynthError> {
    let start = Instant::now();
    let install = espeak::locate(&config.espeak_program)?;
    let clips = plan(config);
    let out = &config.out_dir;
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(out).map_err(io("create", out))?;
    // A half-written corpus must never look complete: drop the old checksums first.
    let checksum_path = out.join(CHECKSUM_FILE);
    if checksum_path.exists() {
        std::fs::remove_file(&checksum_path).map_err(io("remove", &checksum_path))?;
    }

    let mut variants = Vec::new();
    for speaker in &SPEAKERS {
        for &emotion in emotions(config) {
            for intensity in Intensity::BOTH {
                variants.push((
                    variant_name(speaker, emotion, intensity),
                    variant_file(speaker, emotion, intensity),
                ));
            }
        }
    }
    let data = PrivateData::create(&install, &out.join(ESPEAK_WORK_DIR), &variants)?;
    for speaker in &SPEAKERS {
        let dir = out.join("wav").join(speaker.id);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    }

    let progress = if config.show_progress {
        indicatif::ProgressBar::new(clips.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "synth {bar:40} {pos}/{len} clips [{elapsed_precise} < {eta_precise}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.workers)
        .build()
        .map_err(|e| SynthError::InvalidConfig {
            field: "workers",
            reason: e.to_string(),
        })?;
    // (clips,) — (relative path, blake3 hex, samples) per clip, in plan order.
    let written: Vec<(String, String, usize)> = pool.install(|| {
        clips
            .par_iter()
            .map(|clip| {
                let result = synthesize_clip(config, &install, &data, clip);
                progress.inc(1);
                result
            })
            .collect::<Result<Vec<_>, SynthError>>()
    })?;
    progress.finish_and_clear();
    drop(data);

    let manifest_path = out.join(MANIFEST_FILE);
    std::fs::write(&manifest_path, manifest_text(&clips)).map_err(io("write", &manifest_path))?;
    let info = CorpusInfo {
        generator: generator_name(),
        seed: config.seed,
        classes: emotions(config)
            .iter()
            .map(|e| e.label().to_owned())
            .collect(),
        sessions: SPEAKERS.len() / 2,
        speakers: SPEAKERS.len(),
        sentences_per_session: config.sentences_per_session,
        clips: clips.len(),
        sample_rate: TARGET_SAMPLE_RATE,
        espeak_ng_version: install.version.clone(),
    };
    let info_path = out.join(INFO_FILE);
    let info_text = serde_json::to_string_pretty(&info).map_err(|e| SynthError::Io {
        action: "encode",
        path: info_path.clone(),
        source: std::io::Error::other(e),
    })? + "\n";
    std::fs::write(&info_path, info_text).map_err(io("write", &info_path))?;

    let mut entries: Vec<(String, String)> = written
        .iter()
        .map(|(path, hash, _)| (path.clone(), hash.clone()))
        .collect();
    for name in [MANIFEST_FILE, INFO_FILE] {
        entries.push((name.to_owned(), checksums::hash_file(&out.join(name))?));
    }
    checksums::write(&checksum_path, entries)?;

    let samples: usize = written.iter().map(|(_, _, n)| n).sum();
    Ok(SynthSummary {
        out_dir: out.clone(),
        clips: clips.len(),
        reused: false,
        seconds: start.elapsed().as_secs_f64(),
        espeak_ng_version: install.version,
        audio_seconds: samples as f64 / f64::from(TARGET_SAMPLE_RATE),
    })
}

/// espeak-ng → 22,050 Hz samples → 16 kHz → WAV; returns (relative path, blake3 hex, samples).
fn synthesize_clip(
    config: &SynthConfig,
    install: &espeak::EspeakInstall,
    data: &PrivateData,
    clip: &ClipPlan,
) -> Result<(String, String, usize), SynthError> {
    let mut rng = ClipRng::new(config.seed, clip.key);
    let factors = clip_prosody(clip.emotion, clip.intensity, &mut rng);
    let voice = voice_argument(&clip.speaker, clip.emotion, clip.intensity);
    let text = ssml(clip.text, &factors);
    // Lower the amplitude until espeak-ng's output keeps its headroom (deterministic: the
    // decision depends only on the output of the previous attempt).
    let mut amplitude = espeak::BASE_AMPLITUDE;
    let (rate, samples) = loop {
        let (rate, samples) =
            espeak::synthesize(install, data, &clip.id, &voice, &text, amplitude)?;
        let peak = espeak::peak(&samples);
        if espeak::quiet_enough(peak, amplitude) {
            break (rate, samples);
        }
        amplitude = espeak::lower_amplitude(amplitude, peak);
    };
    let audio = |source| SynthError::Audio {
        clip: clip.id.clone(),
        source,
    };
    let mut resampled = resample(&samples, rate, TARGET_SAMPLE_RATE).map_err(audio)?;
    limit_peak(&mut resampled, MAX_WAV_PEAK);
    let path = config.out_dir.join(&clip.rel_path);
    write_wav_16k(&path, &resampled).map_err(audio)?;
    let hash = checksums::hash_file(&path)?;
    Ok((clip.rel_path.clone(), hash, resampled.len()))
}

/// Largest |sample| written to a clip: full scale minus one 16-bit step, so no sample is
/// clamped by the WAV writer.
const MAX_WAV_PEAK: f32 = 32_766.0 / 32_767.0;

/// Scales `samples` down (by `limit / peak`) when their peak exceeds `limit`: a last guard
/// against resampler overshoot, which the espeak-ng headroom normally already prevents.
fn limit_peak(samples: &mut [f32], limit: f32) {
    let peak = espeak::peak(samples);
    if peak > limit {
        let gain = limit / peak;
        samples.iter_mut().for_each(|x| *x *= gain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    #[test]
    fn limit_peak_scales_only_loud_clips() {
        let mut quiet = vec![0.5, -0.25];
        limit_peak(&mut quiet, 0.9);
        assert_eq!(quiet, [0.5, -0.25]);
        let mut loud = vec![0.5, -1.2, 0.6];
        limit_peak(&mut loud, 0.9);
        // gain 0.9 / 1.2 = 0.75.
        for (got, want) in loud.iter().zip([0.375, -0.9, 0.45]) {
            assert!((got - want).abs() < 1e-6, "{loud:?}");
        }
    }

    #[test]
    fn default_plan_has_1600_clips_with_disjoint_sessions() {
        let config = SynthConfig::default();
        let clips = plan(&config);
        // 5 sessions × 2 speakers × 20 sentences × 4 emotions × 2 intensities.
        assert_eq!(clips.len(), 1600);
        let ids: HashSet<&str> = clips.iter().map(|c| c.id.as_str()).collect();
        let keys: HashSet<u64> = clips.iter().map(|c| c.key).collect();
        assert_eq!((ids.len(), keys.len()), (1600, 1600));

        let mut per_session: BTreeMap<u8, (BTreeSet<&str>, BTreeSet<usize>)> = BTreeMap::new();
        for c in &clips {
            let entry = per_session.entry(c.speaker.session).or_default();
            entry.0.insert(c.speaker.id);
            entry.1.insert(c.sentence_number);
        }
        assert_eq!(per_session.len(), 5);
        let mut all_sentences = BTreeSet::new();
        for (speakers, sentences) in per_session.values() {
            assert_eq!((speakers.len(), sentences.len()), (2, 20));
            assert!(
                sentences.iter().all(|s| all_sentences.insert(*s)),
                "sentence in two sessions"
            );
        }
        let per_class = clips.iter().fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.emotion.label()).or_insert(0) += 1;
            m
        });
        assert_eq!(
            per_class.values().copied().collect::<Vec<_>>(),
            vec![400; 4]
        );
    }

    #[test]
    fn six_classes_keep_the_four_class_clips_keys() {
        let four = plan(&SynthConfig::default());
        let six = plan(&SynthConfig {
            six_classes: true,
            ..SynthConfig::default()
        });
        assert_eq!(six.len(), 2400);
        let six_keys: BTreeMap<&str, u64> = six.iter().map(|c| (c.id.as_str(), c.key)).collect();
        assert!(
            four.iter()
                .all(|c| six_keys.get(c.id.as_str()) == Some(&c.key))
        );
    }

    #[test]
    fn manifest_rows_are_path_label_speaker_session() {
        let config = SynthConfig {
            sentences_per_session: 1,
            ..SynthConfig::default()
        };
        let clips = plan(&config);
        let text = manifest_text(&clips);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 5 * 2 * 4 * 2);
        assert_eq!(lines[0], "path,label,speaker,session");
        assert_eq!(lines[1], "wav/S1F/S1F_t001_neu_normal.wav,neutral,S1F,1");
        assert_eq!(lines[4], "wav/S1F/S1F_t001_ang_strong.wav,angry,S1F,1");
        assert_eq!(lines[80], "wav/S5M/S5M_t081_sad_strong.wav,sad,S5M,5");
    }
}
