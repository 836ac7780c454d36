//! The scenario's story before Play: its first sentence as a teaser, and the rest of the summary
//! behind "Read the whole story", so that nobody is told the ending before watching it.

use crate::components::glossary::Linked;
use yew::prelude::*;

/// Splits `text` after its first sentence: (teaser, the rest), both trimmed.
pub fn split_teaser(text: &str) -> (&str, &str) {
    let teaser = cascade::scenario::first_sentence(text);
    (teaser, text.trim()[teaser.len()..].trim_start())
}

/// Props of [`Story`].
#[derive(Properties, Clone, PartialEq)]
pub struct StoryProps {
    /// The scenario's summary.
    pub summary: AttrValue,
}

/// The teaser and, folded, the rest of the story.
#[component]
pub fn Story(props: &StoryProps) -> Html {
    let (teaser, rest) = split_teaser(&props.summary);
    html! {
        <div class="story">
            <p class="teaser"><Linked text={teaser.to_string()} /></p>
            if !rest.is_empty() {
                <details>
                    <summary>{ "Read the whole story" }</summary>
                    <p><Linked text={rest.to_string()} /></p>
                </details>
            }
        </div>
    }
}
