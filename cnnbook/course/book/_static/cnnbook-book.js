/* The web book's one script: a work-around for the theme's menus on a phone.
 *
 * pydata-sphinx-theme 0.20 with sphinx-book-theme 1.4 put two buttons with the class primary-toggle (and two
 * with secondary-toggle) on each page: the header's, which the book theme hides, and the article header's,
 * which a phone shows. The theme's script binds only the first in the page, so the visible menu and contents
 * buttons do nothing (pydata-sphinx-theme#2451, sphinx-book-theme#988). Here a click on any later button of a
 * class is passed on to the first, which opens the menu (or, on a wide screen, folds the sidebar away).
 */
(() => {
  const forward = () => {
    for (const name of ["primary-toggle", "secondary-toggle"]) {
      const [bound, ...others] = document.querySelectorAll(`.${name}`);
      for (const button of others) {
        button.addEventListener("click", (event) => {
          event.preventDefault();
          event.stopPropagation();
          bound.click();
        });
      }
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", forward);
  } else {
    forward();
  }
})();
