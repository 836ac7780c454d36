//! Entry point of the training module: the whole app with lessons, the on-call drill and the
//! glossary. The player's module imports it when a lesson or a drill is opened (see
//! `cascade_web::start`); its simulation workers still run the player's module.

fn main() {
    cascade_web::start();
}
