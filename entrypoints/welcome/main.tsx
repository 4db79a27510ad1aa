import { render } from 'preact';
import { WelcomeView } from '../../components/WelcomeView';
import '../../assets/pages.css';

render(<WelcomeView />, document.getElementById('app')!);
