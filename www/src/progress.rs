//! A trainee's progress, kept in the browser (localStorage): the choices made in each lesson and
//! the last drill of each scenario; reset, or exported as a small JSON summary for an instructor.
//!
//! Keys are `cascade-lab.lesson.<id>` (one item per question: the choice and `+` when it was
//! right, `-` when not, or `.` when not answered yet) and `cascade-lab.drill.<id>` (impact
//! minutes, requests failed, the documented run's two, and the actions as in a permalink).

const PREFIX: &str = "cascade-lab.";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn get(key: &str) -> Option<String> {
    storage()?
        .get_item(&format!("{PREFIX}{key}"))
        .ok()
        .flatten()
}

fn set(key: &str, value: &str) {
    if let Some(storage) = storage() {
        // A full or refused storage loses the progress, not the lesson.
        let _ = storage.set_item(&format!("{PREFIX}{key}"), value);
    }
}

/// The choices made before in the lesson of `id` (`count` questions).
pub fn answers(id: &str, count: usize) -> Vec<Option<u32>> {
    let saved = get(&format!("lesson.{id}")).unwrap_or_default();
    let mut items = saved.split(',');
    (0..count)
        .map(|_| {
            let item = items.next()?;
            item.trim_end_matches(['+', '-']).parse().ok()
        })
        .collect()
}

/// Keeps the lesson's choices: (choice, right) per question.
pub fn save_answers(id: &str, answers: &[Option<(u32, bool)>]) {
    let items: Vec<String> = answers
        .iter()
        .map(|a| match a {
            Some((choice, right)) => format!("{choice}{}", if *right { '+' } else { '-' }),
            None => ".".into(),
        })
        .collect();
    set(&format!("lesson.{id}"), &items.join(","));
}

/// Keeps the last drill of `id`.
pub fn save_drill(id: &str, yours: (f64, f64), documented: (f64, f64), actions: &str) {
    set(
        &format!("drill.{id}"),
        &format!(
            "{:.2},{:.0},{:.2},{:.0};{actions}",
            yours.0, yours.1, documented.0, documented.1
        ),
    );
}

/// What a gallery card says of the trainee's progress with `id`: (questions answered, right).
pub fn lesson_score(id: &str) -> (usize, usize) {
    let saved = get(&format!("lesson.{id}")).unwrap_or_default();
    let answered = saved.split(',').filter(|i| i.ends_with(['+', '-'])).count();
    let right = saved.split(',').filter(|i| i.ends_with('+')).count();
    (answered, right)
}

/// Forgets every lesson and drill.
pub fn reset() {
    let Some(storage) = storage() else { return };
    let len = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}

/// A JSON string (quotes and control characters escaped).
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The summary an instructor collects: per scenario (id, title), the lesson's answers and the
/// last drill.
pub fn export_json(scenarios: &[(String, String)]) -> String {
    let mut items = Vec::new();
    for (id, title) in scenarios {
        let lesson = get(&format!("lesson.{id}"));
        let drill = get(&format!("drill.{id}"));
        if lesson.is_none() && drill.is_none() {
            continue;
        }
        let mut fields = vec![
            format!("\"id\": {}", json_string(id)),
            format!("\"title\": {}", json_string(title)),
        ];
        if let Some(lesson) = lesson {
            let answers: Vec<String> = lesson
                .split(',')
                .map(
                    |item| match item.trim_end_matches(['+', '-']).parse::<u32>() {
                        Ok(choice) => format!(
                            "{{\"choice\": {choice}, \"right\": {}}}",
                            item.ends_with('+')
                        ),
                        Err(_) => "null".into(),
                    },
                )
                .collect();
            let (answered, right) = lesson_score(id);
            fields.push(format!(
                "\"questions\": {{\"answered\": {answered}, \"right\": {right}, \"answers\": [{}]}}",
                answers.join(", ")
            ));
        }
        if let Some(drill) = drill {
            let (numbers, actions) = drill.split_once(';').unwrap_or((&drill, ""));
            let n: Vec<&str> = numbers.split(',').collect();
            if n.len() == 4 && n.iter().all(|x| crate::permalink::number(x).is_some()) {
                fields.push(format!(
                    "\"drill\": {{\"impact_minutes\": {}, \"failed_requests\": {}, \"documented_impact_minutes\": {}, \"documented_failed_requests\": {}, \"actions\": {}}}",
                    n[0], n[1], n[2], n[3], json_string(actions)
                ));
            }
        }
        items.push(format!("    {{{}}}", fields.join(", ")));
    }
    format!(
        "{{\n  \"cascade_lab_progress\": 1,\n  \"scenarios\": [\n{}\n  ]\n}}\n",
        items.join(",\n")
    )
}
