//! Synthetic corpus, text side: the 100 emotionally neutral sentences, 20 per session.
//!
//! Written for this project. Each session owns its own 20 sentences, so a leave-one-session-out
//! split is disjoint in both speakers and sentences (as IEMOCAP's sessions are). The content is
//! deliberately bland: the emotion must come from the prosody, never from the words.

/// Sentences per session in the full corpus.
pub const SENTENCES_PER_SESSION: usize = 20;

/// Number of sessions (each with two speakers).
pub const SESSIONS: usize = 5;

/// (SESSIONS, SENTENCES_PER_SESSION) — the sentence texts, one row per session.
pub const SENTENCES: [[&str; SENTENCES_PER_SESSION]; SESSIONS] = [
    [
        "The bus to the city centre leaves every twenty minutes.",
        "I put the blue folder on the shelf next to the printer.",
        "We are having soup and bread for dinner tonight.",
        "The meeting has been moved to Thursday afternoon.",
        "She parked the car behind the grocery store.",
        "There are four chairs around the kitchen table.",
        "The library closes at six on Saturdays.",
        "He usually takes the stairs instead of the lift.",
        "My sister lives two streets away from the station.",
        "The package arrived this morning.",
        "Please write your name at the top of the form.",
        "The window in the back room faces the garden.",
        "They painted the fence white last summer.",
        "The train stops at every station after the bridge.",
        "I need to buy milk, eggs and a loaf of bread.",
        "The keys are in the drawer by the front door.",
        "Our neighbours have a small grey cat.",
        "The report is due at the end of the month.",
        "He walked to the post office after lunch.",
        "The lamp on the desk uses a small bulb.",
    ],
    [
        "The shop on the corner sells newspapers and stamps.",
        "We moved the sofa closer to the window.",
        "The doctor's office is on the second floor.",
        "I usually read a book before going to sleep.",
        "The clock in the hallway is five minutes fast.",
        "She ordered a cup of tea and a sandwich.",
        "The parking lot is behind the main building.",
        "They are repairing the road near the school.",
        "The laundry needs to be folded and put away.",
        "He checked the timetable for the next ferry.",
        "The towels are in the cupboard under the sink.",
        "My brother works at a bank in the old town.",
        "The printer on this floor is out of paper.",
        "We walked along the river for about an hour.",
        "The plates go on the top shelf of the cabinet.",
        "The lecture starts at nine in room twelve.",
        "I left my coat on the back of the chair.",
        "The garden has two apple trees and a small shed.",
        "She sent the letter by regular mail.",
        "The bakery opens early on weekdays.",
    ],
    [
        "The blue car belongs to the family next door.",
        "I wrote the phone number on a piece of paper.",
        "The museum is closed on Mondays.",
        "He put the groceries in the back of the van.",
        "There is a bench at the end of the path.",
        "We need three more boxes for the books.",
        "The heating comes on at seven in the morning.",
        "She keeps her bicycle in the garage.",
        "The menu changes at the start of every season.",
        "The office has a view of the car park.",
        "They bought a new table for the dining room.",
        "The water bill arrives every three months.",
        "I will take the early train on Friday.",
        "The dog sleeps in a basket by the stove.",
        "The supermarket is about ten minutes on foot.",
        "He keeps his tools in a wooden box.",
        "The form asks for your address and date of birth.",
        "The bridge was built about forty years ago.",
        "We usually do the shopping on Saturday morning.",
        "The curtains in the bedroom are light green.",
    ],
    [
        "The flight lands a little after midnight.",
        "I borrowed a ladder from the man across the road.",
        "The school bus stops outside the church.",
        "She turned off the radio and opened the window.",
        "The spare batteries are in the kitchen drawer.",
        "We took the long road through the valley.",
        "The pharmacy is next to the bakery.",
        "He fixed the shelf with two new screws.",
        "The tickets can be bought at the counter.",
        "My cousin is studying chemistry at the university.",
        "The rubbish is collected on Tuesday mornings.",
        "The cups are on the left side of the sink.",
        "They planted tomatoes along the south wall.",
        "The elevator goes up to the eighth floor.",
        "I moved the plant closer to the light.",
        "The footpath follows the old railway line.",
        "She keeps the receipts in a brown envelope.",
        "The swimming pool opens at eight.",
        "We put the spare bed in the small room.",
        "The notice is pinned to the board in the hall.",
    ],
    [
        "The boat leaves the harbour at half past ten.",
        "I put the rest of the rice in the fridge.",
        "The hotel is on the other side of the square.",
        "He reads the newspaper on the way to work.",
        "The spare key is under the flower pot.",
        "We counted the chairs before the meeting.",
        "The road to the farm is narrow and long.",
        "She hung the picture above the fireplace.",
        "The bank is open until four on weekdays.",
        "The students handed in their essays on Monday.",
        "My uncle grows potatoes in his back garden.",
        "The light switch is next to the door.",
        "They changed the tyres on the old truck.",
        "The cinema shows two films every evening.",
        "I keep my passport in the top drawer.",
        "The children walk to school with their father.",
        "The recipe needs two cups of flour.",
        "The train was a few minutes late today.",
        "He stacked the firewood against the shed.",
        "The market is held in the square on Sundays.",
    ],
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sentences_are_distinct_across_all_sessions() {
        let all: Vec<&str> = SENTENCES.iter().flatten().copied().collect();
        assert_eq!(all.len(), SESSIONS * SENTENCES_PER_SESSION);
        let distinct: HashSet<&str> = all.iter().copied().collect();
        assert_eq!(distinct.len(), all.len(), "a sentence appears twice");
    }

    #[test]
    fn sentences_are_everyday_length() {
        // 5 to 12 words: about 1.5 to 4 s of speech at espeak-ng's default rate.
        for s in SENTENCES.iter().flatten() {
            let words = s.split_whitespace().count();
            assert!((5..=12).contains(&words), "{words} words: {s}");
        }
    }
}
