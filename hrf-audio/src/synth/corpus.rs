//! Synthetic corpus, generation: the clip plan (session × speaker × sentence × emotion ×
//! intensity), parallel synthesis to 16 kHz WAV with the built-in engine or espeak-ng, the
//! manifest, the record file and checksums.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::error::SynthError;
use super::espeak::{self, PrivateData};
use super::formant::{self, grammar, speakers::VoiceSpeaker};
use super::prosody::{ClipRng, Emotion, Intensity, clip_prosody, ssml};
use super::sentences::{SENTENCES, SENTENCES_PER_SESSION, SESSIONS};
use super::voices::{SPEAKERS, variant_file, variant_name, voice_argument};
use super::{CHECKSUM_FILE, Engine, INFO_FILE, MANIFEST_FILE, SynthConfig, checksums};
use crate::resample::resample;
use crate::wav::{TARGET_SAMPLE_RATE, encode_wav_16k};

/// Where the private espeak-ng data lives during generation (removed afterwards).
const ESPEAK_WORK_DIR: &str = ".espeak-ng-work";

/// One clip to synthesise.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipPlan {
    /// File stem and clip id, e.g. `S1F000_t007_ang_strong`.
    pub id: String,
    /// Path relative to the corpus directory, `/`-separated: `wav/S1F000/S1F000_t007_ang_strong.wav`.
    pub rel_path: String,
    /// Speaker id, e.g. `S1F000` (session 1, female, speaker 0 of the corpus).
    pub speaker: String,
    /// Index of the speaker in the corpus (into [`SPEAKERS`] for espeak-ng).
    pub speaker_index: usize,
    /// 1-based session.
    pub session: u8,
    /// 1-based sentence number over the whole corpus; sessions own disjoint sentences.
    pub sentence_number: usize,
    pub emotion: Emotion,
    pub intensity: Intensity,
    /// Unique per clip: keys the clip's random variation.
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

/// `(id, session, female)` of every speaker: espeak-ng's ten fixed voices, or the built-in
/// engine's `config.speakers` parametric speakers, speaker `i` in session `i mod 5 + 1`
/// (so each session has both sexes once it has two speakers).
fn speakers(config: &SynthConfig) -> Vec<(String, u8)> {
    match config.engine {
        Engine::EspeakNg => SPEAKERS
            .iter()
            .map(|s| (s.id.to_owned(), s.session))
            .collect(),
        Engine::Builtin => (0..config.speakers)
            .map(|i| {
                let session = (i % SESSIONS) as u8 + 1;
                let sex = if VoiceSpeaker::is_female(i) { 'F' } else { 'M' };
                (format!("S{session}{sex}{i:03}"), session)
            })
            .collect(),
    }
}

/// Every clip of the corpus, in manifest order (session, speaker, sentence, emotion, intensity).
pub fn plan(config: &SynthConfig) -> Vec<ClipPlan> {
    let mut speakers: Vec<(usize, (String, u8))> =
        speakers(config).into_iter().enumerate().collect();
    speakers.sort_by_key(|(i, (_, session))| (*session, *i));
    let mut clips = Vec::new();
    for (speaker_index, (speaker, session)) in speakers {
        let first = usize::from(session - 1) * config.sentences_per_session;
        for s in 0..config.sentences_per_session {
            let sentence_number = first + s + 1;
            for &emotion in emotions(config) {
                for intensity in Intensity::BOTH {
                    let id = format!(
                        "{speaker}_t{sentence_number:03}_{}_{}",
                        emotion.code(),
                        intensity.name()
                    );
                    // Key from the clip's identity, not its position, so `--six` leaves the
                    // other clips' variation unchanged.
                    let key = ((speaker_index as u64 * 10_000 + sentence_number as u64) * 16
                        + emotion as u64)
                        * 4
                        + u64::from(intensity.level());
                    clips.push(ClipPlan {
                        rel_path: format!("wav/{speaker}/{id}.wav"),
                        id,
                        speaker: speaker.clone(),
                        speaker_index,
                        session,
                        sentence_number,
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
            clip.speaker,
            clip.session
        ));
    }
    text
}

/// What the record file `corpus.json` stores: enough to tell whether an existing corpus matches
/// a config, and which engine (and version) made it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusInfo {
    pub generator: String,
    /// `builtin` or `espeak-ng`.
    pub engine: String,
    /// The built-in engine's recipe version, or espeak-ng's version.
    pub engine_version: String,
    pub seed: u64,
    pub classes: Vec<String>,
    pub sessions: usize,
    pub speakers: usize,
    pub sentences_per_session: usize,
    pub clips: usize,
    pub sample_rate: u32,
    /// Additive noise SNR in dB, if any.
    pub noise_snr_db: Option<f64>,
    /// Whether each clip went through a random channel.
    pub channel: bool,
}

/// Revision of the corpus layout and recipe: bumped whenever the same seed gives different
/// files, so a corpus made by an older recipe is regenerated instead of reused.
/// 3: built-in engine, parametric speakers, engine recorded.
const RECIPE_REVISION: u32 = 3;

/// `hrf synth recipe <revision>`, recorded in `corpus.json` (no crate version: the default
/// corpus's committed checksums must not change with a version bump).
fn generator_name() -> String {
    format!("hrf synth recipe {RECIPE_REVISION}")
}

impl CorpusInfo {
    /// The record a corpus generated from `config` carries.
    fn of(config: &SynthConfig, engine_version: &str) -> Self {
        CorpusInfo {
            generator: generator_name(),
            engine: config.engine.name().to_owned(),
            engine_version: engine_version.to_owned(),
            seed: config.seed,
            classes: emotions(config)
                .iter()
                .map(|e| e.label().to_owned())
                .collect(),
            sessions: SESSIONS,
            speakers: speakers(config).len(),
            sentences_per_session: config.sentences_per_session,
            clips: plan(config).len(),
            sample_rate: TARGET_SAMPLE_RATE,
            noise_snr_db: config.degradation.noise_snr_db,
            channel: config.degradation.channel,
        }
    }

    /// Whether a corpus recorded as `self` is what `config` asks for, made by this recipe
    /// (espeak-ng's version may differ: it is whatever is installed).
    pub fn matches(&self, config: &SynthConfig) -> bool {
        let expected = CorpusInfo::of(config, &self.engine_version);
        let builtin_current =
            config.engine != Engine::Builtin || self.engine_version == formant::ENGINE_VERSION;
        *self == expected && builtin_current
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
    /// `builtin formant-1` or `espeak-ng 1.51`.
    pub engine: String,
    /// Total audio duration in seconds (0 when reused).
    pub audio_seconds: f64,
}

/// The engine a corpus is being made with.
enum Synthesiser {
    Builtin,
    Espeak {
        install: espeak::EspeakInstall,
        data: PrivateData,
    },
}

impl Synthesiser {
    fn version(&self) -> String {
        match self {
            Synthesiser::Builtin => formant::ENGINE_VERSION.to_owned(),
            Synthesiser::Espeak { install, .. } => install.version.clone(),
        }
    }
}

/// A pool of `workers` threads (the corpus's bytes never depend on it).
fn pool(workers: usize) -> Result<rayon::ThreadPool, SynthError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| SynthError::InvalidConfig {
            field: "workers",
            reason: e.to_string(),
        })
}

/// The blake3 of every WAV of `config`'s corpus, rendered in memory by the built-in engine on
/// `workers` threads, in plan order: `(relative path, hex)`. What [`generate`](super::generate)
/// would write, without touching the disk.
///
/// # Errors
/// [`SynthError::InvalidConfig`] for an invalid config or an espeak-ng config.
pub fn builtin_hashes(
    config: &SynthConfig,
    workers: usize,
) -> Result<Vec<(String, String)>, SynthError> {
    config.validate()?;
    if config.engine != Engine::Builtin {
        return Err(SynthError::InvalidConfig {
            field: "engine",
            reason: "only the built-in engine renders in memory".to_owned(),
        });
    }
    let clips = plan(config);
    pool(workers)?.install(|| {
        clips
            .par_iter()
            .map(|clip| {
                let bytes = encode_wav(&builtin_clip(config, clip), &clip.id)?;
                Ok((
                    clip.rel_path.clone(),
                    blake3::hash(&bytes).to_hex().to_string(),
                ))
            })
            .collect()
    })
}

/// The manifest text and the `corpus.json` text of `config`'s corpus made by `engine_version`.
pub fn record_texts(config: &SynthConfig, engine_version: &str) -> (String, String) {
    let info = CorpusInfo::of(config, engine_version);
    let json = serde_json::to_string_pretty(&info).unwrap_or_default() + "\n";
    (manifest_text(&plan(config)), json)
}

pub(super) fn generate_corpus(config: &SynthConfig) -> Result<SynthSummary, SynthError> {
    let start = Instant::now();
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
    let synthesiser = match config.engine {
        Engine::Builtin => Synthesiser::Builtin,
        Engine::EspeakNg => {
            let install = espeak::locate(&config.espeak_program)?;
            std::fs::create_dir_all(out).map_err(io("create", out))?;
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
            Synthesiser::Espeak { install, data }
        }
    };
    std::fs::create_dir_all(out).map_err(io("create", out))?;
    // A half-written corpus must never look complete: drop the old checksums first.
    let checksum_path = out.join(CHECKSUM_FILE);
    if checksum_path.exists() {
        std::fs::remove_file(&checksum_path).map_err(io("remove", &checksum_path))?;
    }
    let mut speaker_dirs: Vec<&str> = clips.iter().map(|c| c.speaker.as_str()).collect();
    speaker_dirs.dedup();
    for speaker in speaker_dirs {
        let dir = out.join("wav").join(speaker);
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
    // (clips,) — (relative path, blake3 hex, samples) per clip, in plan order.
    let written: Vec<(String, String, usize)> = pool(config.workers)?.install(|| {
        clips
            .par_iter()
            .map(|clip| {
                let samples = match &synthesiser {
                    Synthesiser::Builtin => builtin_clip(config, clip),
                    Synthesiser::Espeak { install, data } => {
                        espeak_clip(config, install, data, clip)?
                    }
                };
                let bytes = encode_wav(&samples, &clip.id)?;
                let path = out.join(&clip.rel_path);
                std::fs::write(&path, &bytes).map_err(io("write", &path))?;
                progress.inc(1);
                Ok((
                    clip.rel_path.clone(),
                    blake3::hash(&bytes).to_hex().to_string(),
                    samples.len(),
                ))
            })
            .collect::<Result<Vec<_>, SynthError>>()
    })?;
    progress.finish_and_clear();
    let engine_version = synthesiser.version();
    drop(synthesiser);

    let (manifest, info_text) = record_texts(config, &engine_version);
    let manifest_path = out.join(MANIFEST_FILE);
    std::fs::write(&manifest_path, manifest).map_err(io("write", &manifest_path))?;
    let info_path = out.join(INFO_FILE);
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
        engine: format!("{} {engine_version}", config.engine.name()),
        audio_seconds: samples as f64 / f64::from(TARGET_SAMPLE_RATE),
    })
}

/// The sentence of `sentence_number` (1-based over the corpus), seeded by the corpus seed.
pub fn builtin_sentence(seed: u64, sentence_number: usize) -> grammar::Sentence {
    grammar::sentence(&mut ClipRng::new(
        seed ^ 0x7E47_0000_0000_0000,
        sentence_number as u64,
    ))
}

/// One clip from the built-in engine, at 16 kHz (what the corpus's WAV holds, before 16-bit
/// quantisation).
pub fn builtin_clip(config: &SynthConfig, clip: &ClipPlan) -> Vec<f32> {
    let sentence = builtin_sentence(config.seed, clip.sentence_number);
    let speaker = VoiceSpeaker::draw(config.seed, clip.speaker_index);
    formant::utterance(
        &sentence,
        &speaker,
        clip.emotion,
        clip.intensity,
        &config.degradation,
        &mut ClipRng::new(config.seed, clip.key),
    )
}

/// One clip from espeak-ng: 22,050 Hz samples → 16 kHz.
fn espeak_clip(
    config: &SynthConfig,
    install: &espeak::EspeakInstall,
    data: &PrivateData,
    clip: &ClipPlan,
) -> Result<Vec<f32>, SynthError> {
    let speaker = &SPEAKERS[clip.speaker_index];
    let session = usize::from(clip.session - 1);
    let in_session = clip.sentence_number - 1 - session * config.sentences_per_session;
    let text = SENTENCES[session][in_session.min(SENTENCES_PER_SESSION - 1)];
    let mut rng = ClipRng::new(config.seed, clip.key);
    let factors = clip_prosody(clip.emotion, clip.intensity, &mut rng);
    let voice = voice_argument(speaker, clip.emotion, clip.intensity);
    let text = ssml(text, &factors);
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
    let mut resampled =
        resample(&samples, rate, TARGET_SAMPLE_RATE).map_err(|source| SynthError::Audio {
            clip: clip.id.clone(),
            source,
        })?;
    limit_peak(&mut resampled, MAX_WAV_PEAK);
    Ok(resampled)
}

/// A clip's WAV bytes (16 kHz, 16-bit mono).
fn encode_wav(samples: &[f32], clip: &str) -> Result<Vec<u8>, SynthError> {
    encode_wav_16k(samples, Path::new(&format!("{clip}.wav"))).map_err(|source| SynthError::Audio {
        clip: clip.to_owned(),
        source,
    })
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
    fn espeak_plan_has_1600_clips_with_disjoint_sessions() {
        let clips = plan(&SynthConfig::espeak());
        // 5 sessions × 2 speakers × 20 sentences × 4 emotions × 2 intensities.
        assert_eq!(clips.len(), 1600);
        assert_disjoint_sessions(&clips, 2, 20);
    }

    #[test]
    fn default_plan_has_40_speakers_in_disjoint_sessions() {
        let clips = plan(&SynthConfig::default());
        // 40 speakers × 12 sentences × 4 emotions × 2 intensities.
        assert_eq!(clips.len(), 3840);
        assert_disjoint_sessions(&clips, 8, 12);
        // Both sexes in every session.
        for session in 1..=5u8 {
            let ids: BTreeSet<&str> = clips
                .iter()
                .filter(|c| c.session == session)
                .map(|c| c.speaker.as_str())
                .collect();
            assert!(ids.iter().any(|i| i.contains('F')) && ids.iter().any(|i| i.contains('M')));
        }
    }

    /// Every speaker and sentence belongs to one session; ids and keys are unique; classes are
    /// balanced.
    fn assert_disjoint_sessions(clips: &[ClipPlan], speakers: usize, sentences: usize) {
        let ids: HashSet<&str> = clips.iter().map(|c| c.id.as_str()).collect();
        let keys: HashSet<u64> = clips.iter().map(|c| c.key).collect();
        assert_eq!((ids.len(), keys.len()), (clips.len(), clips.len()));
        let mut per_session: BTreeMap<u8, (BTreeSet<&str>, BTreeSet<usize>)> = BTreeMap::new();
        for c in clips {
            let entry = per_session.entry(c.session).or_default();
            entry.0.insert(c.speaker.as_str());
            entry.1.insert(c.sentence_number);
        }
        assert_eq!(per_session.len(), 5);
        let (mut all_speakers, mut all_sentences) = (BTreeSet::new(), BTreeSet::new());
        for (ids, numbers) in per_session.values() {
            assert_eq!((ids.len(), numbers.len()), (speakers, sentences));
            assert!(
                ids.iter().all(|s| all_speakers.insert(*s)),
                "speaker in two sessions"
            );
            assert!(
                numbers.iter().all(|s| all_sentences.insert(*s)),
                "sentence in two sessions"
            );
        }
        let per_class = clips.iter().fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.emotion.label()).or_insert(0) += 1;
            m
        });
        let counts: Vec<usize> = per_class.values().copied().collect();
        assert!(counts.iter().all(|&n| n == clips.len() / 4), "{counts:?}");
    }

    #[test]
    fn six_classes_keep_the_four_class_clips_keys() {
        let four = plan(&SynthConfig::default());
        let six = plan(&SynthConfig {
            six_classes: true,
            ..SynthConfig::default()
        });
        assert_eq!(six.len(), 3840 / 4 * 6);
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
            ..SynthConfig::espeak()
        };
        let clips = plan(&config);
        let text = manifest_text(&clips);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 5 * 2 * 4 * 2);
        assert_eq!(lines[0], "path,label,speaker,session");
        assert_eq!(lines[1], "wav/S1F/S1F_t001_neu_normal.wav,neutral,S1F,1");
        assert_eq!(lines[4], "wav/S1F/S1F_t001_ang_strong.wav,angry,S1F,1");
        assert_eq!(lines[80], "wav/S5M/S5M_t005_sad_strong.wav,sad,S5M,5");
        let builtin = manifest_text(&plan(&SynthConfig {
            sentences_per_session: 1,
            speakers: 10,
            ..SynthConfig::default()
        }));
        let rows: Vec<&str> = builtin.lines().collect();
        assert_eq!(
            rows[1],
            "wav/S1F000/S1F000_t001_neu_normal.wav,neutral,S1F000,1"
        );
        assert_eq!(
            rows[9],
            "wav/S1M005/S1M005_t001_neu_normal.wav,neutral,S1M005,1"
        );
        assert_eq!(
            rows[80],
            "wav/S5M009/S5M009_t005_sad_strong.wav,sad,S5M009,5"
        );
    }
}
