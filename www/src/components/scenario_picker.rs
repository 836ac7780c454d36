//! The scenario picker: a labelled list of the bundled scenarios.

use crate::state::ScenarioEntry;
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Props of [`ScenarioPicker`].
#[derive(Properties, Clone, PartialEq)]
pub struct ScenarioPickerProps {
    /// The scenarios to choose from.
    pub entries: Rc<Vec<ScenarioEntry>>,
    /// Index of the chosen one.
    pub selected: usize,
    /// Called with the index of a newly chosen scenario.
    pub on_select: Callback<usize>,
}

/// A `<select>` labelled "Scenario".
#[component]
pub fn ScenarioPicker(props: &ScenarioPickerProps) -> Html {
    let on_change = {
        let on_select = props.on_select.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Ok(index) = select.value().parse::<usize>() {
                on_select.emit(index);
            }
        })
    };
    html! {
        <label class="picker">
            { "Scenario" }
            <select onchange={on_change}>
                { for props.entries.iter().enumerate().map(|(i, entry)| html! {
                    <option value={i.to_string()} selected={i == props.selected}>{ entry.title.clone() }</option>
                }) }
            </select>
        </label>
    }
}
