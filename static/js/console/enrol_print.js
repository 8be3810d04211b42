// The enrolment sheet's Print button (the CSP allows no inline handlers).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
