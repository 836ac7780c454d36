//! Entry point of the authoring module: the whole app with the scenario editor, scenario files
//! opened or dropped, `?src=` / `#scenario=` links, "What if" and the stability map. The
//! player's module imports it when one of those opens (see `cascade_web::start`); its replay
//! workers still run the player's module, and its sweep workers run this one.

use gloo_worker::Registrable;

fn main() {
    if cascade_web::in_worker() {
        cascade_web::sweep_worker::SweepWorker::registrar().register();
    } else {
        cascade_web::start();
    }
}
