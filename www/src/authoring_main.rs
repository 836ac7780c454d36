//! Entry point of the authoring module: the whole app with the scenario editor, scenario files
//! opened or dropped, and `?src=` / `#scenario=` links. The player's module imports it when one
//! of those opens (see `cascade_web::start`); its simulation workers still run the player's
//! module.

fn main() {
    cascade_web::start();
}
