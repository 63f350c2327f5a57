//! The whole `hrf data` report for a small manifest corpus, as the user sees it.

use super::fake_tree::FakeTree;
use crate::datasets::{load_manifest, report, summary};

#[test]
fn report_lists_counts_folds_duration_exclusions_and_skips() {
    let tree = FakeTree::new("report");
    // 1 kHz WAVs: frames / 1000 = seconds.
    tree.wav("c/a1.wav", 1000, 1500);
    tree.wav("c/a2.wav", 1000, 2500);
    tree.wav("c/b1.wav", 1000, 1000);
    tree.wav("c/b2.wav", 1000, 3000);
    tree.wav("c/c1.wav", 1000, 2000);
    tree.wav("c/d1.wav", 1000, 500);
    tree.touch(&["c/broken.wav"]);
    let manifest = tree.file(
        "m.csv",
        "path,label,speaker,session\n\
         c/a1.wav,calm,ann,s1\n\
         c/a2.wav,loud,ann,s1\n\
         c/b1.wav,calm,bob,s2\n\
         c/b2.wav,loud,bob,s2\n\
         c/c1.wav,loud,cat,s2\n\
         c/broken.wav,calm,cat,s2\n\
         c/gone.wav,calm,cat,s2\n\
         c/d1.wav,quiet,cat,s2\n\
         c/x.wav,other\n",
    );
    let classes = ["calm".to_owned(), "loud".to_owned()];
    let data = load_manifest(&manifest, Some(&classes)).unwrap();
    let folds = data.folds();
    let durations = summary::durations(&data);
    let text = report::render(&data, &folds, Some(&durations));
    let audio_dir = tree.path("c");
    let (m, c) = (manifest.display(), audio_dir.display());
    let expected = format!(
        "\
dataset manifest at {m}: 2 classes, 6 utterances, 3 speakers, 2 sessions

per class
  class  utterances  share
  calm            3  50.0%
  loud            3  50.0%
  total           6

per session
  session  calm  loud  total
  s1          1     1      2
  s2          2     2      4
  total       3     3      6

per speaker
  speaker  calm  loud  total
  ann         1     1      2
  bob         1     1      2
  cat         1     1      2
  total       3     3      6

protocol: leave-one-session-out (report the mean of per-fold metrics): 2 folds
  fold  train  val  test  test speakers  val speakers
  s1        2    2     2  ann            cat
  s2        2    0     4  bob cat        -

duration: 10.0s over 5 utterances (mean 2.00 s, max 3.00 s)
audio problems (1):
  {c}/broken.wav: unreadable WAV header: Failed to read enough bytes.

excluded, label outside the class set: quiet 1

skipped entries: 2
  {m}:8: missing WAV {c}/gone.wav
  {m}:10: 2 fields, expected 4 as set by line 1
"
    );
    assert_eq!(text, expected);
}
