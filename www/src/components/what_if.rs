//! The "What if" panel (authoring module): the scenario's declared parameters as sliders, the
//! browser form of `cascade run --set`. Moving one starts the runs again with the new value; the
//! run as it happened stays the documented one.

use crate::state::{Action, Session};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of [`WhatIf`].
#[derive(Properties, Clone)]
pub struct WhatIfProps {
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// Changes when the runs start again (a parameter set, a fix toggled).
    pub revision: u64,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for WhatIfProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision && Rc::ptr_eq(&self.session, &other.session)
    }
}

/// A value as the panel shows it: whole numbers without decimals, others with up to three.
fn shown(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The panel (nothing when the scenario declares no parameters).
#[component]
pub fn WhatIf(props: &WhatIfProps) -> Html {
    let session = props.session.borrow();
    let declared = &session.scenario.file.parameters;
    if declared.is_empty() {
        return Html::default();
    }
    let rows = declared.iter().enumerate().map(|(i, p)| {
        let value = session.scenario.number_at(&p.path).unwrap_or(p.min);
        let changed = session.set.iter().any(|(path, _)| *path == p.path);
        let step = if p.step > 0.0 { p.step } else { (p.max - p.min) / 100.0 };
        let id = format!("what-if-{i}");
        let onchange = {
            let (dispatch, path) = (props.dispatch.clone(), p.path.clone());
            Callback::from(move |event: Event| {
                let input: HtmlInputElement = event.target_unchecked_into();
                if let Ok(v) = input.value().parse::<f64>() {
                    dispatch.emit(Action::SetParameter(path.clone(), Some(v)));
                }
            })
        };
        let reset = {
            let (dispatch, path, id) = (props.dispatch.clone(), p.path.clone(), id.clone());
            Callback::from(move |_: MouseEvent| {
                dispatch.emit(Action::SetParameter(path.clone(), None));
                // The button goes away with the change: focus stays on its slider.
                if let Some(slider) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&id))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = slider.focus();
                }
            })
        };
        let unit = if p.unit.is_empty() { String::new() } else { format!(" {}", p.unit) };
        html! {
            <li class={classes!("what-if-row", changed.then_some("changed"))}>
                <label for={id.clone()}>{ p.label.clone() }</label>
                <output for={id.clone()}>{ format!("{}{unit}", shown(value)) }</output>
                <input type="range" id={id} min={p.min.to_string()} max={p.max.to_string()} step={step.to_string()}
                    value={value.to_string()} onchange={onchange}
                    aria-valuetext={format!("{}{unit}", shown(value))} />
                <span class="range-ends muted small">{ format!("{}–{}", shown(p.min), shown(p.max)) }</span>
                if changed {
                    <button type="button" class="small" onclick={reset} aria-label={format!("Back to the documented {}", p.label)}>{ "Documented value" }</button>
                }
            </li>
        }
    });
    html! {
        <section class="what-if" aria-labelledby="what-if-heading">
            <h2 id="what-if-heading">{ "What if" }</h2>
            <p class="muted small">{ "Change the load or the trigger: the run starts again with the new value; the run as it happened stays for comparison." }</p>
            <ul>{ for rows }</ul>
        </section>
    }
}
