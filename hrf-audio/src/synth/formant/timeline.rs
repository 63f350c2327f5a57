//! Built-in synthesiser, timing and intonation: sentence + speaker + emotional take → segments
//! with durations → per-tick parameter tracks, with targets interpolated across segment
//! boundaries (coarticulation) and an F0 contour of declining phrases, pitch accents on stressed
//! syllables and a terminal movement (after Pierrehumbert 1980 and 't Hart, Collier & Cohen
//! 1990's declination lines).

use super::super::prosody::ClipRng;
use super::emotion::EmotionRule;
use super::grammar::{Sentence, Syllable};
use super::phonemes::{Manner, NEUTRAL_FORMANTS, Phoneme};
use super::render::{Frame, NASAL_POLE_HZ, SAMPLE_RATE, TICK, Tracks, Voice};
use super::source::gaussian;
use super::speakers::VoiceSpeaker;

/// Ticks per second.
const TICKS_PER_S: f64 = SAMPLE_RATE as f64 / TICK as f64;
/// F4 and F5 of the adult-male tract, Hz (Klatt 1980's defaults), scaled with the speaker.
const HIGH_FORMANTS: [f64; 2] = [3300.0, 4300.0];
/// Leading and trailing silence, seconds.
const EDGES_S: (f64, f64) = (0.15, 0.20);
/// Base pause between phrases, seconds.
const PAUSE_S: f64 = 0.16;
/// Output gain for a 0 dB take (keeps loud strong takes below full scale).
const BASE_GAIN: f64 = 0.4;
/// Inventory durations are citation-form; connected speech runs faster (Klatt 1976).
const CONNECTED_SPEECH: f64 = 0.72;

/// One stretch of constant targets.
#[derive(Clone, Copy, Debug)]
struct Segment {
    ticks: usize,
    target: Frame,
    /// Fraction of the segment at each end that belongs to the transitions.
    ramp: f64,
}

/// Where one syllable's vowel lies, for the intonation.
#[derive(Clone, Copy, Debug)]
struct VowelSpan {
    start: usize,
    end: usize,
    accented: bool,
    nuclear: bool,
    phrase: usize,
}

/// A sentence laid out in time: segments, vowel spans, phrase spans.
struct Layout {
    segments: Vec<Segment>,
    vowels: Vec<VowelSpan>,
    /// (start, end) tick of each phrase.
    phrases: Vec<(usize, usize)>,
}

/// What the take and speaker make of every segment.
struct Articulation<'a> {
    speaker: &'a VoiceSpeaker,
    take: &'a EmotionRule,
    /// Speaker × take speaking rate.
    rate: f64,
}

impl Articulation<'_> {
    fn ticks(&self, ms: f64) -> usize {
        ((CONNECTED_SPEECH * ms / 1000.0 / self.rate) * TICKS_PER_S)
            .round()
            .max(1.0) as usize
    }

    fn scale(&self, f: [f64; 3]) -> [f64; 5] {
        let s = self.speaker.formant_scale;
        [
            f[0] * s,
            f[1] * s,
            f[2] * s,
            HIGH_FORMANTS[0] * s,
            HIGH_FORMANTS[1] * s,
        ]
    }

    fn bandwidths(&self, wide: f64) -> [f64; 5] {
        // Breathy (open) glottis damps F1 (Klatt & Klatt 1990).
        let open = (self.speaker.breathiness + self.take.breathiness).max(0.0);
        [
            (60.0 + 200.0 * open) * wide,
            90.0 * wide,
            150.0 * wide,
            250.0,
            300.0,
        ]
    }

    /// A vowel's formants: the target pulled towards the centre by under-articulation.
    fn vowel_formants(&self, vowel: &Phoneme, stressed: bool) -> [f64; 5] {
        let reach =
            self.speaker.articulation * self.take.articulation * if stressed { 1.0 } else { 0.8 };
        let reach = reach.clamp(0.3, 1.3);
        let mut f = [0.0; 3];
        for k in 0..3 {
            f[k] = NEUTRAL_FORMANTS[k] + reach * (vowel.formants[k] - NEUTRAL_FORMANTS[k]);
        }
        // Keep F1 < F2 < F3 after over-articulation.
        f[1] = f[1].max(f[0] + 150.0);
        f[2] = f[2].max(f[1] + 200.0);
        self.scale(f)
    }

    /// The segments of one consonant (locus targets, amplitudes by manner).
    fn consonant(&self, c: &Phoneme, lengthen: f64, segments: &mut Vec<Segment>) {
        let formants = self.scale(c.formants);
        let bw = self.bandwidths(1.0);
        let fric_hz = (
            c.frication.0 * self.speaker.formant_scale.sqrt(),
            c.frication.1,
        );
        let dur = c.duration_ms * lengthen;
        let mut frame = Frame::silent(formants, bw);
        match c.manner {
            Manner::Plosive => {
                // Closure (a voice bar when voiced), burst, aspiration when voiceless.
                let mut closure = frame;
                closure.voicing = if c.voiced { 0.06 } else { 0.0 };
                segments.push(Segment {
                    ticks: self.ticks(0.65 * dur),
                    target: closure,
                    ramp: 0.12,
                });
                let mut burst = frame;
                burst.frication = c.frication.2;
                burst.frication_hz = fric_hz;
                segments.push(Segment {
                    ticks: self.ticks(10.0).max(3),
                    target: burst,
                    ramp: 0.1,
                });
                if !c.voiced {
                    let mut aspiration = frame;
                    aspiration.aspiration = 0.9;
                    segments.push(Segment {
                        ticks: self.ticks(0.4 * dur),
                        target: aspiration,
                        ramp: 0.3,
                    });
                }
            }
            Manner::Fricative => {
                frame.frication = c.frication.2;
                frame.frication_hz = fric_hz;
                frame.voicing = if c.voiced { 0.2 } else { 0.0 };
                frame.aspiration = if c.voiced { 0.0 } else { 0.1 };
                segments.push(Segment {
                    ticks: self.ticks(dur),
                    target: frame,
                    ramp: 0.15,
                });
            }
            Manner::Aspirate => {
                frame.aspiration = 1.0;
                segments.push(Segment {
                    ticks: self.ticks(dur),
                    target: frame,
                    ramp: 0.4,
                });
            }
            Manner::Nasal => {
                frame.voicing = 0.1;
                frame.bandwidths = self.bandwidths(1.6);
                frame.nasal_zero_hz = c.nasal_zero * self.speaker.formant_scale;
                segments.push(Segment {
                    ticks: self.ticks(dur),
                    target: frame,
                    ramp: 0.2,
                });
            }
            Manner::Approximant | Manner::Vowel => {
                frame.voicing = 0.15;
                segments.push(Segment {
                    ticks: self.ticks(dur),
                    target: frame,
                    ramp: 0.3,
                });
            }
        }
    }

    fn syllable(
        &self,
        s: &Syllable,
        final_lengthening: f64,
        segments: &mut Vec<Segment>,
    ) -> (usize, usize) {
        let weak = if s.stressed { 1.0 } else { 0.85 };
        for c in &s.onset {
            self.consonant(c, weak, segments);
        }
        let start: usize = segments.iter().map(|x| x.ticks).sum();
        let vowel_ms =
            s.nucleus.duration_ms * if s.stressed { 1.0 } else { 0.85 } * final_lengthening;
        let mut vowel = Frame::silent(
            self.vowel_formants(s.nucleus, s.stressed),
            self.bandwidths(1.0),
        );
        vowel.voicing = 1.0;
        segments.push(Segment {
            ticks: self.ticks(vowel_ms),
            target: vowel,
            ramp: 0.2,
        });
        let end = start + segments.last().map_or(0, |x| x.ticks);
        for c in &s.coda {
            self.consonant(c, weak * final_lengthening.sqrt(), segments);
        }
        (start, end)
    }
}

fn silence(ticks: usize, speaker: &VoiceSpeaker) -> Segment {
    let s = speaker.formant_scale;
    let f = [
        NEUTRAL_FORMANTS[0] * s,
        NEUTRAL_FORMANTS[1] * s,
        NEUTRAL_FORMANTS[2] * s,
        HIGH_FORMANTS[0] * s,
        HIGH_FORMANTS[1] * s,
    ];
    Segment {
        ticks,
        target: Frame::silent(f, [80.0, 100.0, 150.0, 250.0, 300.0]),
        ramp: 0.05,
    }
}

fn layout(sentence: &Sentence, art: &Articulation, rng: &mut ClipRng) -> Layout {
    let mut segments = vec![silence(
        art.ticks(EDGES_S.0 * 1000.0 * art.rate / CONNECTED_SPEECH),
        art.speaker,
    )];
    let mut vowels = Vec::new();
    let mut phrases = Vec::new();
    let tick_at = |segments: &[Segment]| segments.iter().map(|x| x.ticks).sum::<usize>();
    for (p, phrase) in sentence.phrases.iter().enumerate() {
        if p > 0 {
            let pause_s = PAUSE_S * art.take.pauses * (0.7 + 0.6 * rng.uniform());
            // Pauses are measured in real time, not scaled by the rate.
            segments.push(silence(
                art.ticks(pause_s * 1000.0 * art.rate / CONNECTED_SPEECH),
                art.speaker,
            ));
        }
        let phrase_start = tick_at(&segments);
        let last = phrase.syllables.len() - 1;
        let nuclear = phrase.syllables.iter().rposition(|s| s.accented);
        for (i, s) in phrase.syllables.iter().enumerate() {
            let lengthening = if i == last { 1.4 } else { 1.0 };
            let (start, end) = art.syllable(s, lengthening, &mut segments);
            vowels.push(VowelSpan {
                start,
                end,
                accented: s.accented,
                nuclear: Some(i) == nuclear,
                phrase: p,
            });
        }
        phrases.push((phrase_start, tick_at(&segments)));
    }
    segments.push(silence(
        art.ticks(EDGES_S.1 * 1000.0 * art.rate / CONNECTED_SPEECH),
        art.speaker,
    ));
    Layout {
        segments,
        vowels,
        phrases,
    }
}

/// Per-tick frames: each segment holds its target in its middle; across each boundary the
/// targets move along a raised cosine from one keyframe to the next.
fn frames(segments: &[Segment]) -> Vec<Frame> {
    // (tick, frame) keyframes: the start and end of each segment's steady part.
    let mut keys: Vec<(f64, Frame)> = Vec::with_capacity(2 * segments.len());
    let mut t = 0.0;
    for s in segments {
        let len = s.ticks as f64;
        keys.push((t + s.ramp * len, s.target));
        keys.push((t + (1.0 - s.ramp) * len, s.target));
        t += len;
    }
    let total = t as usize;
    let mut out = Vec::with_capacity(total);
    let mut k = 0;
    for tick in 0..total {
        let x = tick as f64 + 0.5;
        while k + 1 < keys.len() && keys[k + 1].0 <= x {
            k += 1;
        }
        let frame = if k + 1 >= keys.len() || x <= keys[k].0 {
            keys[k].1
        } else {
            let (t0, a) = keys[k];
            let (t1, b) = keys[k + 1];
            let u = ((x - t0) / (t1 - t0).max(1e-9)).clamp(0.0, 1.0);
            a.lerp(&b, 0.5 - 0.5 * libm::cos(core::f64::consts::PI * u))
        };
        out.push(frame);
    }
    out
}

/// Raised-cosine bump of unit height centred at `c` with half-width `w` (ticks).
fn bump(x: f64, c: f64, w: f64) -> f64 {
    let d = (x - c) / w;
    if d.abs() >= 1.0 {
        0.0
    } else {
        0.5 + 0.5 * libm::cos(core::f64::consts::PI * d)
    }
}

/// F0 (Hz) and creak probability per tick.
fn intonation(
    l: &Layout,
    total: usize,
    art: &Articulation,
    rng: &mut ClipRng,
) -> (Vec<f64>, Vec<f64>) {
    let take = art.take;
    let range = (art.speaker.f0_range_st * take.range).clamp(1.0, 24.0);
    // Accent heights drawn once per syllable; the nuclear accent is the largest.
    let heights: Vec<f64> = l
        .vowels
        .iter()
        .map(|v| {
            let h = 0.30 + 0.12 * rng.uniform();
            if v.nuclear { 1.25 * h } else { h }
        })
        .collect();
    let wander_phase = [rng.uniform(), rng.uniform()];
    let tremor_hz = 5.5 + rng.uniform();
    let creak = (art.speaker.creak + take.creak).clamp(0.0, 0.8);
    let phrases = l.phrases.len();
    let mut f0 = Vec::with_capacity(total);
    let mut creak_track = Vec::with_capacity(total);
    for tick in 0..total {
        let x = tick as f64 + 0.5;
        // The phrase this tick belongs to (pauses belong to the one before).
        let p = l
            .phrases
            .iter()
            .rposition(|&(s, _)| (s as f64) <= x)
            .unwrap_or(0);
        let (ps, pe) = l.phrases[p];
        let pos = ((x - ps as f64) / (pe - ps).max(1) as f64).clamp(0.0, 1.0);
        // Declination: from 45% of the range at the phrase start to 10% at its end; later
        // phrases start lower.
        let reset = 1.0 - 0.15 * p as f64 / phrases as f64;
        let mut st = range * (reset * 0.45 - 0.35 * pos);
        for (v, &h) in l.vowels.iter().zip(&heights) {
            if !v.accented {
                continue;
            }
            let len = (v.end - v.start) as f64;
            // Peak alignment: early (shape −1) … late (shape +1) in the vowel.
            let centre = v.start as f64 + (0.5 + 0.4 * take.accent_shape) * len;
            let width = len * (1.1 - 0.3 * take.accent_shape.abs()) + 6.0;
            st += range * h * bump(x, centre, width);
        }
        // Boundary tones on each phrase's last vowel: terminal for the last phrase,
        // a continuation rise otherwise.
        if let Some(v) = l.vowels.iter().rev().find(|v| v.phrase == p) {
            let u = ((x - v.start as f64) / (v.end - v.start).max(1) as f64).clamp(0.0, 1.0);
            let movement = if p + 1 == phrases {
                take.terminal
            } else {
                0.15
            };
            if x >= v.start as f64 {
                st += range * movement * u;
            }
        }
        let t = x / TICKS_PER_S;
        let tau = core::f64::consts::TAU;
        st += take.tremor_st * libm::sin(tau * tremor_hz * t);
        st += 0.3 * libm::sin(tau * (0.7 * t + wander_phase[0]))
            + 0.2 * libm::sin(tau * (1.9 * t + wander_phase[1]));
        st += take.f0_shift_st;
        f0.push(art.speaker.f0_floor_hz * libm::exp2(st / 12.0));
        // Creak mostly at phrase ends (the last quarter), rarely elsewhere.
        creak_track.push(if pos > 0.75 { creak } else { 0.15 * creak });
    }
    (f0, creak_track)
}

/// Everything the renderer needs for one utterance.
pub fn plan(
    sentence: &Sentence,
    speaker: &VoiceSpeaker,
    take: &EmotionRule,
    rng: &mut ClipRng,
) -> (Tracks, Voice) {
    let rate = (speaker.rate * take.rate).clamp(0.4, 2.5);
    let art = Articulation {
        speaker,
        take,
        rate,
    };
    let layout = layout(sentence, &art, rng);
    let frames = frames(&layout.segments);
    let (f0_hz, creak) = intonation(&layout, frames.len(), &art, rng);
    let level_db = speaker.level_db + take.level_db + 0.5 * gaussian(rng);
    let voice = Voice {
        open_quotient: (speaker.open_quotient + take.open_quotient).clamp(0.3, 0.9),
        breathiness: (speaker.breathiness + take.breathiness).clamp(0.0, 0.6),
        tilt_db: (speaker.tilt_db + take.tilt_db).clamp(0.0, 30.0),
        jitter: (speaker.jitter * take.jitter).clamp(0.0, 0.05),
        shimmer_db: speaker.shimmer_db * take.jitter.sqrt(),
        gain: BASE_GAIN * libm::pow(10.0, level_db / 20.0),
    };
    (
        Tracks {
            frames,
            f0_hz,
            creak,
        },
        voice,
    )
}

/// A sustained vowel (tests and calibration): constant formants, constant F0, modal voice.
pub fn sustained(formants: [f64; 5], f0_hz: f64, seconds: f64) -> Tracks {
    let ticks = (seconds * TICKS_PER_S).round() as usize;
    let mut frame = Frame::silent(formants, [60.0, 90.0, 150.0, 250.0, 300.0]);
    frame.voicing = 1.0;
    frame.nasal_zero_hz = NASAL_POLE_HZ;
    Tracks {
        frames: vec![frame; ticks],
        f0_hz: vec![f0_hz; ticks],
        creak: vec![0.0; ticks],
    }
}
